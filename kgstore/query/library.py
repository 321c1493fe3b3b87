"""Find and read the query files of `cypher/`.

Each file holds one statement under a comment header that is both documentation (a user
reads it in Browser) and the contract `kgctl query` and the tests rely on:

    // What the query answers, in a sentence or two.
    // @param userId string: a User.id
    // @param k int = 10: how many users to return
    // @returns user, score, plantedGroup

A parameter without `= default` is required. Types: string, int, float, bool and
list<string>, list<int>, list<float>. `@returns` lists the columns in order.

The library's own files must carry the header (the tests hold each to it). Any other
.cypher file given by its path runs without one: its columns are the result's and the
parameters its statement uses are sent as text, and `header_notes` says what a header
would add.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgstore.errors import KgstoreError
from kgstore.paths import CYPHER_DIR
from kgstore.schema import SCHEMA_FILE

SCALAR_TYPES = ("string", "int", "float", "bool")
PARAM_TYPES = SCALAR_TYPES + tuple(f"list<{t}>" for t in ("string", "int", "float"))

_PARAM = re.compile(
    r"^//\s*@param\s+(?P<name>\w+)\s+(?P<type>[\w<>]+)"
    r"(?:\s*=\s*(?P<default>[^:]+?))?\s*:\s*(?P<help>.*)$"
)
_RETURNS = re.compile(r"^//\s*@returns\s+(?P<columns>.+)$")
_STATEMENT_PARAM = re.compile(r"\$(\w+)")


class QueryFileError(KgstoreError):
    """A query file that cannot be found or whose header is malformed."""


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str
    default: Any
    required: bool
    help: str
    declared: bool = True
    """False for a parameter a file without `@param` lines uses (sent as text)."""


@dataclass(frozen=True)
class QueryFile:
    """One library file: its name (path under cypher/ without `.cypher`), what it says
    about itself, its parameters, the columns it returns and its single statement."""

    name: str
    path: Path
    description: str
    params: tuple[QueryParam, ...]
    columns: tuple[str, ...] | None
    """None for a file outside the library without `@returns`: the result's columns."""
    statement: str

    def defaults(self) -> dict[str, Any]:
        """The values of the parameters that have a default (null included)."""
        return {p.name: p.default for p in self.params if not p.required}


def library_files(root: Path = CYPHER_DIR) -> list[Path]:
    """Every query file, sorted; the schema file is DDL applied by `kgctl schema apply`,
    not a query."""
    return sorted(p for p in root.rglob("*.cypher") if p != SCHEMA_FILE)


def query_name(path: Path, root: Path = CYPHER_DIR) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def find_query(name: str, root: Path = CYPHER_DIR) -> QueryFile:
    """A query by its name under cypher/ (`personas/similar_users`), by its file name alone
    when that is unique (`similar_users`), or by the path of any .cypher file."""
    as_path = Path(name)
    if as_path.suffix == ".cypher" and as_path.is_file():
        return read_query(as_path, as_path.stem, library=False)
    files = library_files(root)
    by_name = {query_name(p, root): p for p in files}
    if name in by_name:
        return read_query(by_name[name], name)
    matches = [p for p in files if p.stem == name]
    if len(matches) == 1:
        return read_query(matches[0], query_name(matches[0], root))
    if matches:
        names = ", ".join(query_name(p, root) for p in matches)
        raise QueryFileError(f"query name {name!r} is ambiguous: {names}")
    raise QueryFileError(
        f"no query {name!r} under {root} (nor a .cypher file of that path): "
        "`kgctl query --list` shows the library"
    )


def read_query(path: Path, name: str, library: bool = True) -> QueryFile:
    """Parse a file's header and its one statement; a malformed header names the line. A
    `library` file without `@returns` is refused; another file gets the result's columns
    and, without `@param` lines, its statement's parameters as text."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryFileError(f"{path}: cannot read it as UTF-8 text ({exc})") from None
    description: list[str] = []
    params: list[QueryParam] = []
    columns: tuple[str, ...] | None = None
    body_start = len(lines)
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped.startswith("//"):
            body_start = number - 1
            break
        if "@param" in stripped:
            params.append(_parse_param(stripped, path, number))
        elif "@returns" in stripped:
            match = _RETURNS.match(stripped)
            if match is None:
                raise QueryFileError(f"{path}:{number}: write `// @returns col1, col2, ...`")
            columns = tuple(c.strip() for c in match["columns"].split(","))
        elif not params and columns is None:
            description.append(stripped.removeprefix("//").strip())
    statement = "\n".join(lines[body_start:]).strip().removesuffix(";").strip()
    if not statement or ";" in _without_strings(statement):
        raise QueryFileError(f"{path}: a library file holds exactly one statement")
    if library and columns is None:
        raise QueryFileError(f"{path}: the header has no `// @returns` line")
    if not library and not params:
        params = [
            QueryParam(used, "string", None, True, "not declared: sent as text", declared=False)
            for used in statement_params(statement)
        ]
    return QueryFile(
        name, path, " ".join(d for d in description if d), tuple(params), columns, statement
    )


def statement_params(statement: str) -> list[str]:
    """The `$name` parameters a statement uses, in order of first use."""
    return list(dict.fromkeys(_STATEMENT_PARAM.findall(statement)))


def header_notes(query: QueryFile) -> list[str]:
    """What a file without a full header runs without, and what the header would add."""
    notes = []
    if query.columns is None:
        notes.append(
            f"{query.path} has no `// @returns col1, col2, ...` header line: the columns are "
            "the result's; with one, the library checks the result against it before the "
            "query runs"
        )
    if any(not param.declared for param in query.params):
        notes.append(
            f"{query.path} has no `// @param` header lines: its parameters "
            f"({', '.join(p.name for p in query.params)}) are sent as text; "
            "`// @param NAME TYPE: help` lines type them"
        )
    return notes


def _without_strings(statement: str) -> str:
    """The statement with quoted literals blanked, so a `;` inside one does not count."""
    return re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "''", statement)


def _parse_param(line: str, path: Path, number: int) -> QueryParam:
    match = _PARAM.match(line)
    if match is None or match["type"] not in PARAM_TYPES:
        raise QueryFileError(
            f"{path}:{number}: write `// @param name TYPE [= default]: help` with TYPE one of "
            f"{', '.join(PARAM_TYPES)}"
        )
    default_text = match["default"]
    default = None
    if default_text is not None and default_text != "null":
        try:
            default = coerce(default_text, match["type"])
        except ValueError as exc:
            raise QueryFileError(f"{path}:{number}: default of {match['name']}: {exc}") from None
    return QueryParam(
        match["name"], match["type"], default, default_text is None, match["help"].strip()
    )


def coerce(text: str, type_name: str) -> Any:
    """A command-line value as the parameter's type; lists are comma-separated."""
    if type_name.startswith("list<"):
        inner = type_name[5:-1]
        return [coerce(part.strip(), inner) for part in text.split(",") if part.strip()]
    if type_name == "int":
        return int(text)
    if type_name == "float":
        return float(text)
    if type_name == "bool":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return lowered == "true"
    return text
