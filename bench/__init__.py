"""streamgate's benchmark suite (``streamgate bench [--quick] [--json PATH]``).

Every scenario starts what it needs through :class:`streams.devtools.dev.DevStack` (the embedded broker unless
``KAFKA_BOOTSTRAP_SERVERS`` is set, the provider simulator and one or two worker subprocesses) and drives load
from this process with a paced, open-loop aiokafka load generator (:mod:`bench.load`). The scenarios:

* :mod:`bench.baseline`  raw aiokafka produce -> consume -> produce -> consume: the limit of one hop and back;
* :mod:`bench.overhead`  gateway overhead (end-to-end minus provider latency) at fixed offered rates, plus the
  cost of each topic hop read from the record timestamps of the internal topics (:mod:`bench.hops`);
* :mod:`bench.capacity`  the highest sustained offered rate: cache misses, cache hits, 1 s provider latency
  (with requests in flight and worker RSS) and two workers.

:mod:`bench.runner` runs them and :mod:`bench.report` prints the table, the targets and the JSON.
"""
