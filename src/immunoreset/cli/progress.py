"""Progress of long runs: a bar on a terminal, a line per tenth of the work elsewhere (logs, CI)."""

from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    """Counts finished patients; silent when ``quiet`` or when there is a single patient."""

    def __init__(self, total: int, quiet: bool = False) -> None:
        self.total = total
        self.done = 0
        self._quiet = quiet or total <= 1
        self._bar = (
            tqdm(total=total, unit="patient", file=sys.stderr)
            if not self._quiet and sys.stderr.isatty()
            else None
        )
        self._next_tenth = 1

    def update(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif not self._quiet and 10 * self.done >= self._next_tenth * self.total:
            sys.stderr.write(
                f"immunoreset: {self.done}/{self.total} patients ({100 * self.done // self.total} %)\n"
            )
            self._next_tenth = 10 * self.done // self.total + 1

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
