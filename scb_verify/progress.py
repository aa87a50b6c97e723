"""Progress display for long runs: a tqdm bar on stderr, shown only on a terminal, and the
status of the claims that are running (:class:`ClaimProgress`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from tqdm import tqdm


def progress_enabled(quiet: bool = False) -> bool:
    """True when stderr is a terminal and the user did not ask for ``--quiet``."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress_bar(
    total: int, desc: str, *, quiet: bool = False, unit: str = "sample", scale: bool = True
) -> Iterator[Callable[..., None]]:
    """Yield ``update(done, total, status="")``; draws a bar, with ``status`` after it, when
    :func:`progress_enabled`. ``scale`` writes large counts as 1.2M (samples, not claims)."""
    if not progress_enabled(quiet):
        yield lambda done, total, status="": None
        return
    bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=scale, file=sys.stderr, leave=False)

    def update(done: int, total: int, status: str = "") -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(status, refresh=False)
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


@dataclass(frozen=True)
class ClaimProgress:
    """Where one running claim stands: its jobs and samples done out of those it has submitted
    so far (a claim submits its jobs in stages; later stages are not counted until they are
    submitted), and the seconds since it started."""

    claim: str
    jobs_done: int
    jobs_total: int
    samples_done: int
    samples_total: int
    elapsed: float

    def eta(self) -> float | None:
        """Seconds the submitted jobs still need at the claim's rate so far (samples per
        second); None until a job has finished or once all have."""
        if self.samples_done <= 0 or self.samples_done >= self.samples_total:
            return None
        return self.elapsed * (self.samples_total - self.samples_done) / self.samples_done

    def text(self) -> str:
        """``C4 12/40 jobs ~3m10s`` (the estimate once there is one)."""
        eta = self.eta()
        return f"{self.claim} {self.jobs_done}/{self.jobs_total} jobs" + (
            "" if eta is None else f" ~{duration(eta)}"
        )


def status_line(running: Sequence[ClaimProgress]) -> str:
    """The running claims, comma-separated."""
    return ", ".join(p.text() for p in running)


def duration(seconds: float) -> str:
    """``45s``, ``3m10s``, ``1h05m``."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"
