"""A campaign's progress: a rich progress bar with ETA on a terminal, one line per handover otherwise."""
from __future__ import annotations

import os

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RP, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)


class Progress:
    """rich progress bar with ETA on a terminal; one line per handover otherwise."""

    def __init__(self, total: int, title: str):
        self.console = Console()
        # MIHSEC_TTY: set by the host for a VM run (the guest's console is always a terminal)
        self.live = self.console.is_terminal and os.environ.get("MIHSEC_TTY", "1") != "0"
        self.total, self.done = total, 0
        if self.live:
            self.rp = RP(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                         TextColumn("ETA"), TimeRemainingColumn(), console=self.console)
            self.task = self.rp.add_task(title, total=total)
            self.rp.start()

    def note(self, text: str) -> None:
        if self.live:
            self.rp.console.print(text)
        else:
            print(text, flush=True)

    def advance(self, text: str) -> None:
        self.done += 1
        self.note(f"[{self.done}/{self.total}] {text}")
        if self.live:
            self.rp.advance(self.task)

    def shrink(self, n: int) -> None:
        self.total -= n
        if self.live:
            self.rp.update(self.task, total=self.total)

    def stop(self) -> None:
        if self.live:
            self.rp.stop()
