"""Rejected records: reported with file and line, kept in a quarantine file, and judged
against a threshold once every good record is stored.

Threshold: an ingest fails (exit code 3) when more than `max_reject_fraction` of the
records it read were rejected (default 1%; `--max-rejects` on the CLI); its good records
are then taken out of the graph again (`ingest.session`). Below that it succeeds, keeps
the good records and still reports every reject.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kgstore.errors import CorruptSource, TooManyRejects

DEFAULT_MAX_REJECT_FRACTION = 0.01
# Long enough for a whole failed SPARQL query (about 4,000 characters at 50 items).
MAX_RECORD_CHARS = 20_000


@dataclass(frozen=True)
class Reject:
    file: str
    line: int | None
    reason: str
    record: str

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass
class Quarantine:
    """Collects rejects into a JSON-lines file (created on the first reject)."""

    path: Path
    max_reject_fraction: float = DEFAULT_MAX_REJECT_FRACTION
    rejects: list[Reject] = field(default_factory=list)
    records_read: int = 0
    unterminated: tuple[str, int] | None = None
    """(file, line) of a last line without a newline: a reject there means the file
    ends mid-record, which fails the ingest (`CorruptSource`)."""

    def reject(self, file: str | Path, line: int | None, reason: str, record: str = "") -> None:
        if self.unterminated == (str(file), line):
            raise CorruptSource(
                f"{file}:{line}: the file ends mid-record ({reason}); line {line - 1} is the "
                "last complete one. The ingest stopped; what it had already stored is kept. "
                "Get a complete copy of the file and run the same command again: it resumes."
            )
        entry = Reject(str(file), line, reason, record[:MAX_RECORD_CHARS])
        self.rejects.append(entry)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry.__dict__, ensure_ascii=False) + "\n")

    def accepted(self, count: int = 1) -> None:
        self.records_read += count

    @contextmanager
    def guard(self, file: str | Path, line: int | None, record: str) -> Iterator[None]:
        """Handle one record inside the block: a ValueError raised there rejects it with
        its message (the rest of the block is skipped); otherwise it counts as read."""
        try:
            yield
        except ValueError as exc:
            self.reject(file, line, str(exc), record)
        else:
            self.accepted()

    @property
    def total(self) -> int:
        return self.records_read + len(self.rejects)

    @property
    def fraction(self) -> float:
        return len(self.rejects) / max(self.total, 1)

    @property
    def over_threshold(self) -> bool:
        return bool(self.rejects) and self.fraction > self.max_reject_fraction

    def first(self, count: int = 5) -> list[str]:
        """The first rejects as `file:line: reason`, for the console."""
        return [f"{entry.where()}: {entry.reason}" for entry in self.rejects[:count]]

    def check(self, outcome: str, report: object = None) -> None:
        """Raise TooManyRejects (carrying `report`) when the rejected fraction is over the
        threshold; `outcome` says what became of the good records."""
        if self.over_threshold:
            fraction = self.fraction
            raise TooManyRejects(
                f"{len(self.rejects)} of {self.total} records rejected ({fraction:.1%}), over "
                f"the threshold of {self.max_reject_fraction:.1%} (--max-rejects): {outcome}. "
                f"First: {self.rejects[0].where()}: {self.rejects[0].reason}. All rejected "
                f"records are in {self.path}",
                report,
            )
