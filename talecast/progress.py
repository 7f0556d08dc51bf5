"""A small terminal progress bar for long CLI work."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

_WIDTH = 30
_MIN_INTERVAL_S = 0.1


class ProgressBar:
    """Draws ``label [#####     ]  42% stage  12s`` on one terminal line.

    Only draws when the stream is a terminal (or ``force`` is set), so logs and pipes
    stay clean; the final state is always printed once on close when enabled.
    """

    def __init__(
        self,
        label: str,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        force: bool = False,
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled and (force or self.stream.isatty())
        self.fraction = 0.0
        self.stage = ""
        self._started = time.monotonic()
        self._last_draw = 0.0

    def update(self, fraction: float, stage: str = "") -> None:
        """Move the bar to ``fraction`` (0..1); never moves backwards."""
        self.fraction = max(self.fraction, min(1.0, fraction))
        self.stage = stage or self.stage
        now = time.monotonic()
        if self.enabled and (
            now - self._last_draw >= _MIN_INTERVAL_S or fraction >= 1.0
        ):
            self._draw(now)

    def _draw(self, now: float) -> None:
        filled = int(self.fraction * _WIDTH)
        bar = "#" * filled + " " * (_WIDTH - filled)
        elapsed = now - self._started
        self.stream.write(
            f"\r{self.label} [{bar}] {self.fraction * 100:5.1f}% "
            f"{self.stage:<11} {elapsed:5.0f}s"
        )
        self.stream.flush()
        self._last_draw = now

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
