"""CSV as kgctl writes it (`kgctl query --format csv`, the Table 3 file): every number at
full precision, so a value read back is the value computed, not a rounding of it; and
`\\n` line ends, as every tool on Linux and macOS expects. CRLF, the line end of RFC 4180
that some spreadsheet imports want, only when asked."""

import csv
import json
from typing import Any, TextIO


def csv_writer(handle: TextIO, crlf: bool = False) -> Any:
    """A `csv.writer` on `handle` (opened with `newline=""`, or stdout) ending lines with
    `\\n`, or `\\r\\n` when `crlf`."""
    return csv.writer(handle, lineterminator="\r\n" if crlf else "\n")


def csv_value(value: object) -> str:
    """One cell: empty for None, a float with every digit it has (the shortest text that
    reads back as the same float), lists and maps as JSON, anything else as its text."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(float(value))  # float(): a numpy float's repr names its type
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(value)
