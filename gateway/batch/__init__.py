"""The batch lane's core: the durable job store (Redis) and the provider batch APIs behind one interface.

**Why Redis and not a Faust table.** A batch job groups the requests of one provider and model from *every* tenant,
so from every partition of the request ledger; a Faust table is sharded by the stream's key and written by one actor
per partition, so no table partition could own a job. Redis gives one atomic place (Lua scripts) where any worker
can move waiting requests into a job, record that *before* submitting it, and hold a short lease while it submits
or polls. It is already the gateway's idempotency store (completions by request id), so it adds no new failure mode:
if it is down a batch request is simply served in the interactive lane.

How a crash is survived (see :mod:`gateway.batch.store`):

* a parked request is in Redis before its admit event is acked: a crash in collection loses nothing;
* a job is recorded (its members and key) before the provider is called; a crash there just submits it later;
* the provider call is made under a lease and after marking the job ``submitting``; the job key travels as the
  batch's metadata (OpenAI) or is recognised by creation time and size under a per-provider submission lock
  (Anthropic's batches carry no client metadata); a restarted worker first looks for the batch, and only submits
  when the provider has none;
* results are fetched again until every member's settlement is on the broker.
"""
