"""The durable batch store in Redis: parked requests waiting per provider/model, and batch jobs.

Keys under ``<app_id>:batch:``: ``e:<id>`` a parked request (:class:`BatchEntry`, JSON, expiring after
``entry_ttl_s``), ``q:<provider>|<model>`` the requests waiting for a job (sorted by arrival), ``groups`` the
groups with waiting requests, ``j:<job>`` a job (:class:`JobRecord`, JSON), ``d:<job>`` the members whose answers
are delivered, ``open`` the open jobs by creation time, ``bids`` every provider batch id a job has recorded, and
``lease:<name>`` the short leases a worker holds while it submits or polls a job.

Each step that must not happen twice is one Lua script: parking (a request parks once, and never when its answer
is already in the completion store), forming a job (waiting requests move into exactly one job, recorded before any
submission) and counting deliveries (the last one closes the job).
"""

from __future__ import annotations

import uuid
from typing import Literal

import redis.asyncio as aioredis

from gateway.batch.records import BatchEntry, JobRecord
from gateway.call_claims import RedisCallClaims

ParkOutcome = Literal["parked", "already", "stored"]

# A request parked before stays with its job (which settles it); one answered another way is replayed from the store.
_PARK = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 'already' end
if redis.call('EXISTS', KEYS[4]) == 1 then return 'stored' end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[5])
return 'parked'
"""
# KEYS: queue, job, open, groups. ARGV: max_size, max_age_ms, now_ms, job key, provider, model, group.
_FORM = """
local n = redis.call('ZCARD', KEYS[1])
if n == 0 then redis.call('SREM', KEYS[4], ARGV[7]) return false end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if n < tonumber(ARGV[1]) and tonumber(ARGV[3]) - tonumber(oldest[2]) < tonumber(ARGV[2]) then return false end
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
for i = 1, #ids, 500 do
  redis.call('ZREM', KEYS[1], unpack(ids, i, math.min(i + 499, #ids)))
end
local record = cjson.encode({key = ARGV[4], provider = ARGV[5], model = ARGV[6], state = 'recorded',
                             members = ids, created_ms = tonumber(ARGV[3])})
redis.call('SET', KEYS[2], record)
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return record
"""
# KEYS: job, done set, open. ARGV: member key, job key.
_DONE = """
redis.call('SADD', KEYS[2], ARGV[1])
local record = redis.call('GET', KEYS[1])
if not record then return 1 end
local size = #cjson.decode(record)['members']
if redis.call('SCARD', KEYS[2]) >= size then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[2])
  return 1
end
return 0
"""


class BatchStore:
    """Parked requests and batch jobs in Redis (see the module docstring for the keys)."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str,
        completion_prefix: str,
        entry_ttl_s: int,
        lease_s: float,
    ) -> None:
        self._redis = client
        self.prefix = prefix
        self._completion_prefix = completion_prefix
        self._entry_ttl_s = entry_ttl_s
        self.leases = RedisCallClaims(client, prefix=prefix + "lease:", lease_s=lease_s)
        self._park = client.register_script(_PARK)
        self._form = client.register_script(_FORM)
        self._done = client.register_script(_DONE)

    def _entry_key(self, member: str) -> str:
        return f"{self.prefix}e:{member}"

    def _job_key(self, job: str) -> str:
        return f"{self.prefix}j:{job}"

    async def park(self, entry: BatchEntry) -> ParkOutcome:
        """Add a request to its group's queue once; ``stored`` when its answer is already in the completion store."""
        outcome = await self._park(
            keys=[
                self._entry_key(entry.member),
                f"{self.prefix}q:{entry.group}",
                f"{self.prefix}groups",
                self._completion_prefix + entry.member,
            ],
            args=[entry.model_dump_json(), self._entry_ttl_s, entry.enqueued_ms, entry.member, entry.group],
        )
        value = outcome.decode() if isinstance(outcome, bytes) else str(outcome)
        assert value in ("parked", "already", "stored")
        return value  # type: ignore[return-value]

    async def groups(self) -> list[str]:
        """Groups (``provider|model``) with requests waiting for a job."""
        return sorted(g.decode() if isinstance(g, bytes) else str(g) for g in await self._redis.smembers(
            f"{self.prefix}groups"))  # fmt: skip

    async def waiting(self, group: str) -> tuple[int, int | None]:
        """How many requests of ``group`` wait for a job, and when the oldest arrived (epoch ms)."""
        queue = f"{self.prefix}q:{group}"
        count = int(await self._redis.zcard(queue))
        oldest = await self._redis.zrange(queue, 0, 0, withscores=True)
        return count, int(oldest[0][1]) if oldest else None

    async def form(self, group: str, *, max_size: int, max_age_ms: int, now_ms: int) -> JobRecord | None:
        """Move up to ``max_size`` waiting requests of ``group`` into a new recorded job, when the group is full or
        its oldest request has waited ``max_age_ms``; ``None`` when it is not due."""
        provider, model = group.split("|", 1)
        key = f"sgb_{uuid.uuid4().hex[:24]}"
        raw = await self._form(
            keys=[f"{self.prefix}q:{group}", self._job_key(key), f"{self.prefix}open", f"{self.prefix}groups"],
            args=[max_size, max_age_ms, now_ms, key, provider, model, group],
        )
        return None if raw is None else JobRecord.model_validate_json(raw)

    async def open_jobs(self) -> list[JobRecord]:
        """Every open job, oldest first."""
        keys = await self._redis.zrange(f"{self.prefix}open", 0, -1)
        if not keys:
            return []
        names = [self._job_key(k.decode() if isinstance(k, bytes) else str(k)) for k in keys]
        values = await self._redis.mget(names)
        records = [JobRecord.model_validate_json(v) for v in values if v is not None]
        counts = [int(await self._redis.scard(f"{self.prefix}d:{record.key}")) for record in records]
        return [record.model_copy(update={"done": done}) for record, done in zip(records, counts, strict=True)]

    async def entries(self, job: JobRecord) -> dict[str, BatchEntry]:
        """The parked requests of ``job`` by member key (an expired one is missing)."""
        values = await self._redis.mget([self._entry_key(member) for member in job.members])
        found = (BatchEntry.model_validate_json(v) for v in values if v is not None)
        return {entry.member: entry for entry in found}

    async def update(self, job: JobRecord) -> bool:
        """Write ``job``'s new state, unless the job was closed meanwhile (False)."""
        value = job.model_copy(update={"done": 0}).model_dump_json()
        return bool(await self._redis.set(self._job_key(job.key), value, xx=True))

    async def delivered(self, job: str) -> set[str]:
        """Members of ``job`` whose answers are on the broker."""
        return {m.decode() if isinstance(m, bytes) else str(m) for m in await self._redis.smembers(
            f"{self.prefix}d:{job}")}  # fmt: skip

    async def mark_delivered(self, job: str, member: str) -> bool:
        """Count one member's answer as delivered; True when that closed the job."""
        keys = [self._job_key(job), f"{self.prefix}d:{job}", f"{self.prefix}open"]
        return bool(await self._done(keys=keys, args=[member, job]))

    async def known_batch_ids(self) -> set[str]:
        """Every provider batch id a job has recorded (a found batch must not be one of them)."""
        return {b.decode() if isinstance(b, bytes) else str(b) for b in await self._redis.smembers(
            f"{self.prefix}bids")}  # fmt: skip

    async def record_batch_id(self, batch_id: str) -> None:
        """Remember a provider batch id as taken."""
        await self._redis.sadd(f"{self.prefix}bids", batch_id)
