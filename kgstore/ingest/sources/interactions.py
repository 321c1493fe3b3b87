"""`kgctl ingest interactions`: generic user-item files, plain or gzipped.

- CSV / TSV with columns user, item[, rating][, timestamp]. With a header the columns are
  found by name (`COLUMN_ALIASES`; RecBole `name:type` headers too) in any order, and
  other columns are ignored; without one they are taken by position: 2 columns are
  user, item; 3 add rating; 4 add timestamp (seconds since the epoch).
- Sequence files: whitespace-separated `user item [item ...]` lines, a user's items in
  time order; a user may span several lines, read in file order.

The format comes from the extension (`.csv`; `.tsv`, `.tab`, `.inter`; `.seq`, also
under `.gz`), else from the first line: a tab makes it TSV, else a comma CSV, else it
is a sequence file. One record is one line; the sequence rules (time order, ties and
files without timestamps keep file order, k-core, `pos`) are those of `sequence_rules`.
"""

import zlib
from collections.abc import Iterator
from enum import StrEnum
from itertools import chain
from pathlib import Path

from kgstore.db import Database
from kgstore.errors import SourceFileError
from kgstore.graph.mapping import Domain
from kgstore.graph.sequences import Interaction
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.session import IngestOptions, IngestReport, ingest_session
from kgstore.ingest.sources.readers import numbered_lines, open_binary
from kgstore.ingest.sources.sequence_rules import build_sequences, parse_number, parse_timestamp
from kgstore.ingest.sources.tables import find_columns, rows_of_equal_width

SOURCE = "interactions"

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "user": ("user", "user_id", "userid", "uid", "reviewerid"),
    "item": ("item", "item_id", "itemid", "iid", "asin"),
    "rating": ("rating", "score", "overall"),
    "timestamp": ("timestamp", "ts", "time", "unixreviewtime"),
}
POSITIONAL_COLUMNS: dict[int, tuple[str, ...]] = {
    2: ("user", "item"),
    3: ("user", "item", "rating"),
    4: ("user", "item", "rating", "timestamp"),
}


class InteractionFormat(StrEnum):
    AUTO = "auto"
    CSV = "csv"
    TSV = "tsv"
    SEQUENCE = "sequence"


_BY_EXTENSION = {
    ".csv": InteractionFormat.CSV,
    ".tsv": InteractionFormat.TSV,
    ".tab": InteractionFormat.TSV,
    ".inter": InteractionFormat.TSV,
    ".seq": InteractionFormat.SEQUENCE,
}
_DELIMITERS = {InteractionFormat.CSV: ",", InteractionFormat.TSV: "\t"}


def detect_format(path: Path) -> InteractionFormat:
    """By extension, else by the first line (see the module docstring)."""
    extension = Path(path.name.removesuffix(".gz")).suffix.lower()
    if extension in _BY_EXTENSION:
        return _BY_EXTENSION[extension]
    try:
        with open_binary(path) as handle:
            first = handle.readline().decode("utf-8", errors="replace")
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceFileError(
            f"{path}: cannot read its first line to tell the format: {exc}"
        ) from None
    if "\t" in first:
        return InteractionFormat.TSV
    if "," in first:
        return InteractionFormat.CSV
    return InteractionFormat.SEQUENCE


def _record(fields: list[str], columns: dict[str, int]) -> Interaction:
    user, item = fields[columns["user"]].strip(), fields[columns["item"]].strip()
    if not user or not item:
        raise ValueError("empty user or item id")
    rating = parse_number(fields[columns["rating"]], "rating") if "rating" in columns else None
    ts = parse_timestamp(fields[columns["timestamp"]]) if "timestamp" in columns else None
    return Interaction(user, item, rating, ts)


def read_table(path: Path, quarantine: Quarantine, delimiter: str) -> Iterator[Interaction]:
    """Records of a CSV/TSV file (header optional); bad lines go to the quarantine."""
    rows = rows_of_equal_width(path, quarantine, delimiter)
    first = next(rows, None)
    if first is None:
        return
    line_no, _, fields = first
    columns = find_columns(fields, COLUMN_ALIASES)
    if not {"user", "item"} <= columns.keys():
        if len(fields) not in POSITIONAL_COLUMNS:
            raise SourceFileError(
                f"{path}:{line_no}: no header naming user and item columns, and "
                f"{len(fields)} columns cannot be read by position (2 to 4)"
            )
        columns = {role: index for index, role in enumerate(POSITIONAL_COLUMNS[len(fields)])}
        rows = chain([first], rows)
    for line_no, text, fields in rows:
        with quarantine.guard(path, line_no, text):
            yield _record(fields, columns)


def read_sequence_file(path: Path, quarantine: Quarantine) -> Iterator[Interaction]:
    """Records of `user item [item ...]` lines, in file order, without timestamps."""
    for line_no, text in numbered_lines(path, quarantine):
        user, *items = text.split()
        if not items:
            quarantine.reject(path, line_no, "expected a user and at least one item", text)
            continue
        quarantine.accepted()
        for item in items:
            yield Interaction(user, item)


def read_interactions(
    path: Path, quarantine: Quarantine, fmt: InteractionFormat = InteractionFormat.AUTO
) -> Iterator[Interaction]:
    fmt = detect_format(path) if fmt is InteractionFormat.AUTO else fmt
    if fmt is InteractionFormat.SEQUENCE:
        return read_sequence_file(path, quarantine)
    return read_table(path, quarantine, _DELIMITERS[fmt])


def ingest_interactions(
    db: Database,
    path: Path,
    domain: Domain,
    fmt: InteractionFormat = InteractionFormat.AUTO,
    kcore: int = 0,
    options: IngestOptions | None = None,
) -> IngestReport:
    """Users, items (with the domain's label) and RATED relationships of one file."""
    config = {"file": str(path), "format": fmt.value, "domain": domain.value, "kcore": kcore}
    with ingest_session(db, SOURCE, path.name, config, options or IngestOptions()) as session:
        sequences = build_sequences(read_interactions(path, session.quarantine, fmt), kcore)
        session.check_domain(sequences.items, domain)
        for item in sorted(sequences.items):
            session.writer.item(item, domain.label, {})
        session.write_sequences(sequences)
    return session.report()
