"""Where the CPU went during a scenario: this process and its descendants (broker, simulator, workers, echo) versus
everything else on the machine, so a run disturbed by other load says so."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _machine_busy_s() -> float:
    """Busy CPU seconds of the whole machine since boot (``/proc/stat``: all but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICK


def _processes() -> dict[int, tuple[int, float]]:
    """``pid -> (ppid, CPU seconds)`` of every process."""
    out: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(entry.name)] = (int(stat[1]), (int(stat[11]) + int(stat[12])) / _TICK)
    return out


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) one process has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / _TICK


def _own_cpu_s(processes: dict[int, tuple[int, float]]) -> dict[int, float]:
    """CPU seconds of this process and each of its descendants."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in processes.items():
        children.setdefault(ppid, []).append(pid)
    own: dict[int, float] = {}
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        if pid in processes:
            own[pid] = processes[pid][1]
        todo.extend(children.get(pid, ()))
    return own


def role(pid: int) -> str:
    """What a bench process is: ``worker``, ``broker``, ``simulator``, ``echo``, ``load`` (this one) or ``other``."""
    if pid == os.getpid():
        return "load"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    for needle, name in (
        (" worker", "worker"),
        ("tansu", "broker"),
        (" simulate", "simulator"),
        ("bench.echo", "echo"),
    ):
        if needle in command:
            return name
    return "other"


@dataclass
class CpuMeter:
    """Cores used between :meth:`start` and :meth:`stop`: by the machine, by each kind of bench process, by others."""

    _wall: float = 0.0
    _busy: float = 0.0
    _own: dict[int, float] = field(default_factory=dict)

    def start(self) -> CpuMeter:
        """Take the first reading."""
        self._wall, self._busy, self._own = time.monotonic(), _machine_busy_s(), _own_cpu_s(_processes())
        return self

    def stop(self) -> dict[str, float]:
        """Average cores over the interval: ``machine``, ``bench`` (own processes, also split by :func:`role`) and
        ``foreign`` (everything else)."""
        wall = max(1e-9, time.monotonic() - self._wall)
        machine = (_machine_busy_s() - self._busy) / wall
        out: dict[str, float] = {"machine": machine, "seconds": wall}
        # Processes that started and ended inside the interval are invisible here; they count as foreign.
        for pid, cpu in _own_cpu_s(_processes()).items():
            name = role(pid)
            out[name] = out.get(name, 0.0) + (cpu - self._own.get(pid, 0.0)) / wall
        out["bench"] = sum(v for k, v in out.items() if k not in ("machine", "seconds"))
        out["foreign"] = max(0.0, machine - out["bench"])
        return out
