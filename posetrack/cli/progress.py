"""A small progress line on stderr: redrawn in place on a terminal, every 10% in a log."""

import sys
import time


class Progress:
    def __init__(self, total: int | None, label: str = "frames") -> None:
        self.total = total
        self.label = label
        self.start = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self._last_draw = 0.0
        self._last_decile = -1

    def update(self, done: int) -> None:
        now = time.perf_counter()
        fps = done / max(now - self.start, 1e-9)
        if self.total:
            decile = done * 10 // self.total
            text = f"{done}/{self.total} {self.label} ({100 * done // self.total}%)  {fps:.1f} fps"
        else:
            decile = done // 300  # a log line every 300 frames of an endless source
            text = f"{done} {self.label}  {fps:.1f} fps"
        if self.tty and now - self._last_draw > 0.1:
            sys.stderr.write(f"\r{text}   ")
            sys.stderr.flush()
            self._last_draw = now
        elif not self.tty and decile != self._last_decile:
            print(text, file=sys.stderr, flush=True)
        self._last_decile = decile

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
