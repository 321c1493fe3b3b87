"""Delimited text files (CSV, TSV, RecBole atomic files): lines split into fields, one
column count per file, and header names without RecBole's `:type` suffix."""

import csv
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.sources.readers import numbered_lines

Row = tuple[int, str, list[str]]


def split_fields(text: str, delimiter: str) -> list[str]:
    """Tab-separated lines are split as they are (RecBole tokens such as `res:Winston's_War`
    hold quotes and are never quoted); other delimiters follow CSV quoting."""
    if delimiter == "\t":
        return text.split("\t")
    return next(csv.reader([text], delimiter=delimiter))


def column_name(field: str) -> str:
    """`user_id:token` -> `user_id`; names compare in lower case."""
    return field.split(":", 1)[0].strip().lower()


def find_columns(header: list[str], aliases: Mapping[str, Collection[str]]) -> dict[str, int]:
    """Column index of each role whose name (or one of its aliases) is in the header."""
    names = [column_name(field) for field in header]
    columns: dict[str, int] = {}
    for role, options in aliases.items():
        for index, name in enumerate(names):
            if name in options and role not in columns:
                columns[role] = index
    return columns


def rows_of_equal_width(path: Path, quarantine: Quarantine, delimiter: str) -> Iterator[Row]:
    """(line number, text, fields) of each line that has as many fields as the first one.

    The first line (a header or the first record) sets the width and is always yielded;
    a line of another width is rejected with its file and line.
    """
    width: int | None = None
    for line_no, text in numbered_lines(path, quarantine):
        try:
            fields = split_fields(text, delimiter)
        except csv.Error as exc:
            quarantine.reject(path, line_no, f"unreadable CSV line: {exc}", text)
            continue
        if width is None:
            width = len(fields)
        elif len(fields) != width:
            quarantine.reject(path, line_no, f"expected {width} columns, found {len(fields)}", text)
            continue
        yield line_no, text, fields
