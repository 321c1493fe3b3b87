"""The bulk path's import files: a `BulkGraph` as typed CSV for `neo4j-admin database
import full`, and the arguments of that call. Nothing here stops or starts a server
(`kgstore.services.neo4j_import` does)."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgstore.errors import BulkImportError
from kgstore.graph.mapping import NODE_KEYS
from kgstore.ingest.write.bulk_writer import BulkGraph

ARRAY_DELIMITER = "\x1f"
"""Between the elements of a list in a CSV field (and between labels): the ASCII unit
separator, which no text of our sources contains; a value that does is refused."""


@dataclass(frozen=True)
class ImportFiles:
    """CSV files for `neo4j-admin database import full`: (label, file) and (type, file)."""

    nodes: list[Path]
    relationships: list[tuple[str, Path]]

    def arguments(self) -> list[str]:
        return [f"--nodes={path}" for path in self.nodes] + [
            f"--relationships={rel_type}={path}" for rel_type, path in self.relationships
        ]

    def admin_arguments(self, database: str, report_file: Path) -> list[str]:
        """`neo4j-admin` arguments that import these files into `database`, replacing it."""
        return [
            "database",
            "import",
            "full",
            database,  # first: the file options take every argument after them
            "--overwrite-destination=true",
            "--array-delimiter=U+001F",
            "--multiline-fields=true",
            f"--report-file={report_file}",
            *self.arguments(),
        ]


_SCALAR_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}


def _csv_type(owner: str, name: str, values: Iterable[Any]) -> str:
    """The import type of a property from every value it has in one file."""
    kinds: set[str] = set()
    for value in values:
        element = value[0] if isinstance(value, list) and value else value
        if value is None or (isinstance(value, list) and not value):
            continue
        kind = _SCALAR_TYPES.get(type(element))
        if kind is None:
            raise BulkImportError(
                f"{owner}.{name}: a {type(element).__name__} value cannot be bulk-imported"
            )
        kinds.add(kind + ("[]" if isinstance(value, list) else ""))
    if kinds <= {"long", "double"} and kinds:
        return "double" if "double" in kinds else "long"
    if kinds <= {"long[]", "double[]"} and kinds:
        return "double[]" if "double[]" in kinds else "long[]"
    if len(kinds) > 1:
        raise BulkImportError(
            f"{owner}.{name} holds values of several types ({', '.join(sorted(kinds))}); "
            "the bulk path needs one type per property: use the online ingest (without --bulk)"
        )
    return kinds.pop() if kinds else "string[]"


def _field(value: Any) -> str:
    """One CSV field: quoted text, empty for a missing value."""
    if value is None:
        return ""
    if isinstance(value, list):
        text = ARRAY_DELIMITER.join(_text(element) for element in value)
    else:
        text = _text(value)
    return '"' + text.replace('"', '""') + '"'


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value) if not isinstance(value, float) else repr(value)
    if ARRAY_DELIMITER in text:
        raise BulkImportError(f"a value contains the control character U+001F: {text[:80]!r}")
    return text


def _write_table(
    path: Path, owner: str, fixed: list[str], rows: list[tuple[list[Any], Mapping[str, Any]]]
) -> None:
    """A CSV file: the `fixed` header columns, then one typed column per property."""
    names = sorted({name for _, props in rows for name in props})
    types = {
        name: _csv_type(owner, name, (p[name] for _, p in rows if name in p)) for name in names
    }
    with path.open("w", encoding="utf-8", newline="") as out:
        header = fixed + [f"{name}:{types[name]}" for name in names]
        out.write(",".join(_field(column) for column in header) + "\n")
        for values, props in rows:
            fields = [_field(value) for value in values]
            fields += [_field(props.get(name)) for name in names]
            out.write(",".join(fields) + "\n")


def write_import_files(graph: BulkGraph, folder: Path) -> ImportFiles:
    """One node file per base label and one relationship file per type."""
    folder.mkdir(parents=True, exist_ok=True)
    by_base: dict[str, list[tuple[list[Any], Mapping[str, Any]]]] = defaultdict(list)
    for (base, key), node in graph.nodes.items():
        by_base[base].append(([key, sorted(node.labels)], node.props))
    nodes = []
    for base, rows in sorted(by_base.items()):
        path = folder / f"nodes-{base}.csv"
        _write_table(path, base, [f"{NODE_KEYS[base]}:ID({base})", ":LABEL"], rows)
        nodes.append(path)
    by_type: dict[tuple[str, str, str], list[tuple[list[Any], Mapping[str, Any]]]] = defaultdict(
        list
    )
    for (rel_type, source, target), props in graph.relationships.items():
        by_type[(rel_type, source[0], target[0])].append(([source[1], target[1]], props))
    relationships = []
    for (rel_type, source_base, target_base), rows in sorted(by_type.items()):
        path = folder / f"rels-{rel_type}-{source_base}-{target_base}.csv"
        header = [f":START_ID({source_base})", f":END_ID({target_base})"]
        _write_table(path, rel_type, header, rows)
        relationships.append((rel_type, path))
    return ImportFiles(nodes, relationships)
