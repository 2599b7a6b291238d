"""CPU time and resident memory of a server process, read from `/proc/PID/stat` and `status`.

CPU time counts every thread of the process (the journal's writer thread too) and of its
child processes while they run (the SQLite journal's sync helper), and is much steadier than
throughput on a shared machine: it is what each request cost, whoever else ran. Resident memory
counts the children too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The process's running children and theirs (`/proc/PID/task/TID/children`)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            listed = (task / "children").read_text(encoding="ascii").split()
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        for child in map(int, listed):
            found += [child, *children(child)]
    return found


def own_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, proc(5)).
    return (int(fields[11]) + int(fields[12])) / TICKS


def _over_children(pid: int, measure: Callable[[int], float]) -> float:
    """`measure` summed over the process's running children."""
    total = 0.0
    for child in children(pid):
        try:
            total += measure(child)
        except FileNotFoundError:  # it ended meanwhile
            continue
    return total


def children_cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process's running children have used so far."""
    return _over_children(pid, own_cpu_seconds)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process and its running children have used so far."""
    return own_cpu_seconds(pid) + children_cpu_seconds(pid)


def postgres_cpu_seconds() -> float:
    """User plus system CPU time the running PostgreSQL server processes of this machine have
    used so far (its backends and its own workers): for a row on the PostgreSQL journal, the
    database's share of each signal, on the same cores as the server's."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text(encoding="ascii").strip() == "postgres":
                total += own_cpu_seconds(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):  # it ended meanwhile
            continue
    return total


def own_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def rss_mb(pid: int) -> float:
    """Resident memory of the process and its running children."""
    return own_rss_mb(pid) + _over_children(pid, own_rss_mb)
