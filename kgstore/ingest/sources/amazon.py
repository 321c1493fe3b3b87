"""`kgctl ingest amazon`: Amazon Reviews, 2018 and 2014 releases (McAuley et al.).

Files, plain or gzipped JSON lines:
- reviews: 2018 `<Category>_5.json.gz`, 2014 `reviews_<Category>_5.json.gz`; the keys
  used are `reviewerID`, `asin`, `overall` (rating) and `unixReviewTime` (ts). Review
  text and votes are not part of the graph.
- meta: `meta_<Category>.json.gz`. 2018 lines are JSON with `category` (a list) and
  `also_buy` / `also_view`; 2014 lines are Python literals (single quotes, parsed with
  `ast.literal_eval` when JSON fails) with `categories` (a list of lists) and `related`
  = {also_bought, also_viewed, bought_together}.

One reader serves both releases: only the field names differ, and every spelling is a
row of `mapping.RELATIONS` (`BY_AMAZON_FIELD`). `title` and `description` (a string, or
a list of paragraphs joined by newlines) become Item properties; a field with no
mapping is counted in the report's `unmapped`. Category and brand names become entities
keyed by `urn:amazon:<label>:<percent-encoded name>` (so the same name from both releases
is one node) with the name as `name`. Item-item relations are written only to items in
the graph: the writer counts the others as dangling.

With reviews, the items are the reviewed items (after the optional k-core); meta records
of other items are skipped and counted in a note. Meta alone: every meta record is an item.
"""

import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from kgstore.db import Database
from kgstore.errors import SourceFileError
from kgstore.graph.mapping import BY_AMAZON_FIELD, Domain, Relation
from kgstore.graph.sequences import Interaction, Sequences
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.session import IngestOptions, IngestReport, IngestSession, ingest_session
from kgstore.ingest.sources.readers import numbered_lines
from kgstore.ingest.sources.sequence_rules import build_sequences, parse_number, parse_timestamp

SOURCE = "amazon"
ITEM_PROPERTIES = ("asin", "title", "description")
GROUPED_FIELDS = ("related",)
"""2014 meta fields whose value is a mapping of further fields (also_bought, …)."""


@dataclass
class MetaRecord:
    """What one meta line contributes: Item properties and (relation, target) pairs."""

    props: dict[str, str]
    links: list[tuple[Relation, str]] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def parse_line(text: str) -> dict:
    """A JSON object, or a Python dict literal (2014 meta); ValueError otherwise."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        try:
            record = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise ValueError(f"neither JSON nor a Python literal: {exc}") from None
    if not isinstance(record, dict):
        raise ValueError(f"expected an object, found {type(record).__name__}")
    return record


def entity_uri(label: str, name: str) -> str:
    """`urn:amazon:category:Movies%20%26%20TV`: stable, and any name is a valid key."""
    return f"urn:amazon:{label.lower()}:{quote(name, safe='')}"


def _required_id(record: dict, key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} is missing or not a non-empty string")
    return value


def _required(record: dict, key: str) -> object:
    if key not in record:
        raise ValueError(f"{key} is missing")
    return record[key]


def _review(record: dict) -> Interaction:
    return Interaction(
        _required_id(record, "reviewerID"),
        _required_id(record, "asin"),
        parse_number(_required(record, "overall"), "overall"),
        parse_timestamp(_required(record, "unixReviewTime")),
    )


def _strings(value: object, name: str) -> list[str]:
    """The non-empty strings of a string or (nested) list of strings, in order, once each."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if not isinstance(value, list):
        raise ValueError(f"{name}: expected a string or a list, found {type(value).__name__}")
    found = [text for element in value for text in _strings(element, name)]
    return list(dict.fromkeys(found))


def _meta_record(record: dict) -> MetaRecord:
    props: dict[str, str] = {}
    if (title := record.get("title")) is not None:
        if not isinstance(title, str):
            raise ValueError(f"title: expected a string, found {type(title).__name__}")
        props["title"] = title
    if description := "\n".join(_strings(record.get("description") or [], "description")):
        props["description"] = description
    meta = MetaRecord(props)
    for name, value in record.items():
        if name in ITEM_PROPERTIES:
            continue
        if name in GROUPED_FIELDS:
            if not isinstance(value, dict):
                raise ValueError(f"{name}: expected a mapping, found {type(value).__name__}")
            fields = list(value.items())
        else:
            fields = [(name, value)]
        for field_name, field_value in fields:
            relation = BY_AMAZON_FIELD.get(field_name)
            if relation is None:
                if field_value not in (None, "", [], {}):
                    meta.unmapped.append(field_name)
                continue
            meta.links.extend((relation, text) for text in _strings(field_value, field_name))
    return meta


def read_reviews(path: Path, quarantine: Quarantine) -> Iterator[Interaction]:
    for line_no, text in numbered_lines(path, quarantine):
        with quarantine.guard(path, line_no, text):
            yield _review(parse_line(text))


def read_meta(
    path: Path, quarantine: Quarantine, wanted: set[str] | None, notes: list[str]
) -> dict[str, MetaRecord]:
    """Meta records by ASIN: all of them, or those in `wanted`; the first of repeats wins."""
    records: dict[str, MetaRecord] = {}
    skipped = repeated = 0
    for line_no, text in numbered_lines(path, quarantine):
        with quarantine.guard(path, line_no, text):
            record = parse_line(text)
            asin = _required_id(record, "asin")
            if wanted is not None and asin not in wanted:
                skipped += 1
            elif asin in records:
                repeated += 1
            else:
                records[asin] = _meta_record(record)
    if skipped:
        notes.append(f"{skipped} meta records of items without (k-core) reviews skipped")
    if repeated:
        notes.append(f"{repeated} repeated meta records skipped (the first one is kept)")
    return records


def _write_items(
    session: IngestSession, domain: Domain, items: set[str], meta: dict[str, MetaRecord]
) -> None:
    session.check_domain(items, domain)
    for asin in sorted(items):
        session.writer.item(asin, domain.label, meta[asin].props if asin in meta else {})
    if missing := len(items - meta.keys()):
        session.notes.append(f"{missing} items have no meta record (no title, no relations)")


def _write_meta_links(session: IngestSession, meta: dict[str, MetaRecord]) -> None:
    for asin, record in meta.items():
        for relation, target in record.links:
            if relation.target_label == "Item":
                session.writer.relationship(relation, asin, target)
            else:
                uri = entity_uri(relation.target_label, target)
                session.writer.relationship(relation, asin, uri, name=target)
        session.unmapped.update(f"meta field {name}" for name in record.unmapped)
    session.notes.append(
        "item-item relations to items not in the graph are not stored (counted as dangling)"
    )


def ingest_amazon(
    db: Database,
    domain: Domain,
    reviews: Path | None = None,
    meta: Path | None = None,
    kcore: int = 0,
    options: IngestOptions | None = None,
) -> IngestReport:
    """Users, items, RATED, categories, brands and item-item relations of one category."""
    if reviews is None and meta is None:
        raise SourceFileError("give a reviews file, a meta file or both")
    files = [path for path in (reviews, meta) if path is not None]
    config = {"files": [str(path) for path in files], "domain": domain.value, "kcore": kcore}
    source_file = "+".join(path.name for path in files)
    with ingest_session(db, SOURCE, source_file, config, options or IngestOptions()) as session:
        sequences: Sequences | None = None
        if reviews is not None:
            sequences = build_sequences(read_reviews(reviews, session.quarantine), kcore)
        wanted = sequences.items if sequences is not None else None
        records = (
            read_meta(meta, session.quarantine, wanted, session.notes) if meta is not None else {}
        )
        _write_items(session, domain, wanted if wanted is not None else set(records), records)
        if sequences is not None:
            session.write_sequences(sequences)
        if meta is not None:
            _write_meta_links(session, records)
    return session.report()
