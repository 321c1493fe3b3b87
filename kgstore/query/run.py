"""Run a library query with command-line parameters: bound as driver parameters (never
pasted into the text), in a read-only transaction unless writes are allowed."""

from dataclasses import dataclass
from typing import Any

import neo4j
from neo4j.exceptions import ClientError
from neo4j.time import Date, DateTime, Duration, Time

from kgstore.db import Database
from kgstore.errors import KgstoreError
from kgstore.query.library import QueryFile, coerce


class QueryInputError(KgstoreError):
    """Parameters that do not fit the query file, or a write without `--write`."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[dict[str, Any]]


def bind_params(query: QueryFile, assignments: list[str]) -> dict[str, Any]:
    """`name=value` strings as typed parameters, with the file's defaults for the rest.
    Every problem is reported at once, naming the parameter and the file."""
    declared = {p.name: p for p in query.params}
    values = query.defaults()
    problems: list[str] = []
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep:
            problems.append(f"--param {assignment!r}: write NAME=VALUE")
        elif name not in declared:
            problems.append(f"unknown parameter {name!r}")
        else:
            try:
                values[name] = coerce(text, declared[name].type)
            except ValueError as exc:
                problems.append(f"{name} ({declared[name].type}): {exc}")
    missing = [p.name for p in query.params if p.required and p.name not in values]
    problems += [f"missing parameter {name!r} ({declared[name].help})" for name in missing]
    if problems:
        usage = ", ".join(f"{p.name} {p.type}" for p in query.params) or "none"
        raise QueryInputError(f"{query.path}: " + "; ".join(problems) + f" (parameters: {usage})")
    return values


def run_query(
    db: Database, query: QueryFile, params: dict[str, Any], write: bool = False
) -> QueryResult:
    """The query's rows as plain Python values. The statement is planned first (EXPLAIN),
    so that before anything runs a result whose columns are not the header's `@returns` is
    refused, and so is, without `write`, a query whose plan writes, with a message that
    says how to allow it. Without `write` the query runs in a READ transaction, so the
    server itself refuses any write as well."""
    mode = neo4j.WRITE_ACCESS if write else neo4j.READ_ACCESS
    with db.session(default_access_mode=mode) as session:
        try:
            explained = session.run("EXPLAIN " + query.statement, params)
            planned = list(explained.keys())
            plan = explained.consume()
            if query.columns is not None and planned != list(query.columns):
                raise QueryInputError(
                    f"{query.name} ({query.path}) returns {', '.join(planned) or 'no columns'}"
                    f" but its `// @returns` header says {', '.join(query.columns)}: make "
                    "them agree"
                )
            if not write and plan.query_type != "r":
                raise QueryInputError(
                    f"{query.name} ({query.path}) writes to the graph (query type "
                    f"{plan.query_type!r}): run it with --write to allow that"
                )
            result = session.run(query.statement, params)
            columns = list(result.keys())
            rows = [{key: plain(value) for key, value in record.items()} for record in result]
        except ClientError as exc:
            if exc.code == "Neo.ClientError.Statement.AccessMode":
                raise QueryInputError(
                    f"{query.name} tried to write in a read-only transaction: use --write"
                ) from None
            raise QueryInputError(f"{query.name} ({query.path}): {exc.message}") from None
    return QueryResult(columns, rows)


def plain(value: Any) -> Any:
    """A driver value as JSON-ready Python: temporal values as ISO text (a date-time to
    the second, or finer only where it has a fraction), nodes and relationships as their
    properties (with labels or type)."""
    if isinstance(value, DateTime):
        return value.to_native().isoformat()
    if isinstance(value, (Date, Time)):
        return value.iso_format()
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, neo4j.graph.Node):
        return {"labels": sorted(value.labels), **{k: plain(v) for k, v in value.items()}}
    if isinstance(value, neo4j.graph.Relationship):
        return {"type": value.type, **{k: plain(v) for k, v in value.items()}}
    if isinstance(value, neo4j.graph.Path):
        return [plain(node) for node in value.nodes]
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
