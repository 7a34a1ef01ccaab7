"""Where intermediates live: one arena, offsets planned from liveness.

Every intermediate buffer is alive from the kernel that writes it to the last kernel that
reads it. Buffers whose lifetimes overlap must not overlap in memory; the planner places
them greedily, largest first, at the lowest offset that fits among the already placed
buffers it is alive with (the usual best-fit heuristic; within a few percent of the floor
on CNNs).

    plan = plan_arena([Interval(size=4096, start=0, end=3), ...])
    plan.offsets[i], plan.size, plan.floor, plan.total
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ALIGNMENT = 64


def aligned(size: int, alignment: int = ALIGNMENT) -> int:
    return -(-size // alignment) * alignment


@dataclass(frozen=True)
class Interval:
    """A buffer of `size` bytes written by kernel `start`, last read by kernel `end`."""

    size: int
    start: int
    end: int

    def overlaps(self, other: Interval) -> bool:
        return self.start <= other.end and other.start <= self.end


@dataclass(frozen=True)
class ArenaPlan:
    offsets: tuple[int, ...]
    size: int
    """Bytes the arena needs."""
    floor: int
    """The most bytes alive at once: no plan can do with less."""
    total: int
    """The sum of all buffers: what giving each its own memory costs."""


def live_floor(intervals: Sequence[Interval]) -> int:
    if not intervals:
        return 0
    last = max(i.end for i in intervals)
    alive = [0] * (last + 2)
    for interval in intervals:
        alive[interval.start] += aligned(interval.size)
        alive[interval.end + 1] -= aligned(interval.size)
    best = running = 0
    for delta in alive:
        running += delta
        best = max(best, running)
    return best


def plan_arena(intervals: Sequence[Interval]) -> ArenaPlan:
    order = sorted(range(len(intervals)),
                   key=lambda i: (-intervals[i].size, intervals[i].start))
    offsets = [0] * len(intervals)
    placed: list[int] = []
    for index in order:
        interval = intervals[index]
        size = aligned(interval.size)
        busy = sorted((offsets[j], offsets[j] + aligned(intervals[j].size))
                      for j in placed if intervals[j].overlaps(interval))
        offset = 0
        for lo, hi in busy:
            if offset + size <= lo:
                break
            offset = max(offset, hi)
        offsets[index] = offset
        placed.append(index)
    size = max((offsets[i] + aligned(intervals[i].size) for i in placed), default=0)
    total = sum(aligned(i.size) for i in intervals)
    return ArenaPlan(tuple(offsets), size, live_floor(intervals), total)
