"""`kgctl ingest amazon-kg`: the Amazon-KG data set (Wang et al., SIGIR 2024), which links
Amazon Books and Movies & TV items to DBpedia. Any subset of its files, plain or gzipped:

- `.inter` (RecBole; `user_id:token item_id:token rating:float[ timestamp:float]`): users
  and RATED. Without a timestamp column each user's file order is the sequence order,
  recorded as assumed (see `sequence_rules`).
- `.link` (`item_id:token entity_id:token`): `Item.uri`. Entity ids are prefixed names
  (`res:The_Prophet_(book)` = http://dbpedia.org/resource/The_Prophet_(book), `cat:Foo`
  = http://dbpedia.org/resource/Category:Foo; all of `PREFIXES`) or full IRIs. A line
  whose item id is in none of the data (`.inter`, the item table, the graph; e.g. an item
  the k-core removed) is counted as skipped, not rejected.
- `.kg` (`head_id:token relation_id:token tail_id:token`): facts whose head is the
  entity of a linked item become relationships of that item (matched on `uri`). The
  relation token is looked up in `BY_AMAZON_KG_RELATION` (`directed_by`, `subject_is`,
  …), else, as a prefixed predicate such as `dbo:director`, in `BY_DBPEDIA_PREDICATE`.
  Unknown tokens and heads that are no linked item's entity are counted in `unmapped`;
  a line whose head or tail is neither a prefixed name nor an IRI is rejected.
- item table (`iid title uri`, tab-separated): `Item.title`, with `titleSource` "item
  table". Titles were turned into regular expressions (`Open\\:.*An.*Autobiography`);
  `.*` becomes a space and escaped characters lose their backslash. Its `uri` column
  lists candidate resources (several rows per item when the title was ambiguous), so it
  sets `Item.uri` only for an item that `.link` does not name and that has exactly one
  candidate. An item the table does not name but whose uri is a DBpedia resource gets
  that resource's readable name as its title (`The_Prophet_(book)` -> "The Prophet
  (book)", DBpedia's label), with `titleSource` "dbpedia uri", unless the graph already
  holds a title for it from elsewhere (that one is kept).
- item metadata table (`iid`, then tab-separated `cat:`/`res:` tokens): `cat:` tokens are
  the dct:subject categories of the linked resource, so they become HAS_SUBJECT (the
  mapping row of dct:subject). `res:` tokens are counted as unmapped: the table does not
  say how the resource relates to the item (author, genre, a related work, …) and `.kg`
  carries the same facts with their relation.

The items are those of `.inter` (after the optional k-core) when it is given, else the
items already in the graph: Amazon-KG enriches items, it never invents any. Rows about
other items are skipped and counted in a note.
"""

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kgstore.db import Database
from kgstore.errors import SourceFileError
from kgstore.graph.item_names import TITLE_FROM_TABLE, TITLE_FROM_URI, name_from_iri, readable_name
from kgstore.graph.mapping import (
    BY_AMAZON_KG_RELATION,
    BY_DBPEDIA_PREDICATE,
    DBO,
    DBR,
    DCT_SUBJECT,
    Domain,
    Relation,
)
from kgstore.graph.sequences import Interaction, Sequences
from kgstore.ingest.quarantine import Quarantine
from kgstore.ingest.session import IngestOptions, IngestReport, IngestSession, ingest_session
from kgstore.ingest.sources.graph_view import graph_items
from kgstore.ingest.sources.interactions import read_table
from kgstore.ingest.sources.readers import numbered_lines
from kgstore.ingest.sources.sequence_rules import build_sequences
from kgstore.ingest.sources.tables import Row, find_columns, rows_of_equal_width

SOURCE = "amazon-kg"
PREFIXES = {
    "res": DBR,
    "dbr": DBR,
    "cat": DBR + "Category:",
    "dbo": DBO,
    "dct": "http://purl.org/dc/terms/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "yago": "http://dbpedia.org/class/yago/",
}
"""The prefixes the Amazon-KG README lists for its entity and relation ids."""

HAS_SUBJECT = BY_DBPEDIA_PREDICATE[DCT_SUBJECT]
_REGEX_PART = re.compile(r"\\(.)|\.\*")


@dataclass(frozen=True)
class AmazonKgFiles:
    inter: Path | None = None
    kg: Path | None = None
    link: Path | None = None
    items: Path | None = None
    item_metadata: Path | None = None

    def given(self) -> list[Path]:
        return [path for path in vars(self).values() if path is not None]


def expand_iri(token: str) -> str:
    """`res:X` -> http://dbpedia.org/resource/X (see PREFIXES); IRIs stay as they are."""
    if token.startswith(("http://", "https://")):
        return token
    prefix, colon, local = token.partition(":")
    if colon and local and prefix in PREFIXES:
        return PREFIXES[prefix] + local
    raise ValueError(f"{token!r} is neither an IRI nor a name with one of {sorted(PREFIXES)}")


def title_from_pattern(pattern: str) -> str:
    """`Open\\:.*An.*Autobiography` -> `Open: An Autobiography`."""
    return _REGEX_PART.sub(lambda m: m.group(1) if m.group(1) is not None else " ", pattern)


def relation_for(token: str) -> Relation | None:
    """The mapping row of a `.kg` relation token: an Amazon-KG name or a DBpedia predicate."""
    if token in BY_AMAZON_KG_RELATION:
        return BY_AMAZON_KG_RELATION[token]
    try:
        return BY_DBPEDIA_PREDICATE.get(expand_iri(token))
    except ValueError:
        return None


def _atomic_rows(path: Path, quarantine: Quarantine, names: tuple[str, ...]) -> Iterator[Row]:
    """Rows of a tab-separated file whose header names `names` (in any order), as fields
    in the order of `names`."""
    rows = rows_of_equal_width(path, quarantine, "\t")
    header = next(rows, None)
    if header is None:
        return
    columns = find_columns(header[2], {name: (name,) for name in names})
    if len(columns) < len(names):
        raise SourceFileError(
            f"{path}:{header[0]}: expected a header naming {', '.join(names)}; found {header[1]!r}"
        )
    for line_no, text, fields in rows:
        yield line_no, text, [fields[columns[name]].strip() for name in names]


def read_item_table(
    path: Path, quarantine: Quarantine
) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Titles and candidate DBpedia IRIs by item id."""
    titles: dict[str, str] = {}
    candidates: dict[str, set[str]] = defaultdict(set)
    for _, _, (iid, title, uri) in _atomic_rows(path, quarantine, ("iid", "title", "uri")):
        titles.setdefault(iid, title_from_pattern(title))
        candidates[iid].add(uri)
        quarantine.accepted()
    return titles, candidates


def read_links(
    path: Path, quarantine: Quarantine, known_items: set[str], skipped: Counter[str]
) -> dict[str, str]:
    """Item id -> entity IRI. A line naming an item that is not in the data (the `.link`
    of a whole data set covers items a k-core removed) is counted in `skipped`, not
    rejected; a second link of one item is rejected."""
    links: dict[str, str] = {}
    for line_no, text, (item, entity) in _atomic_rows(path, quarantine, ("item_id", "entity_id")):
        if item not in known_items:
            skipped[".link lines of items not in the data"] += 1
            continue
        with quarantine.guard(path, line_no, text):
            if item in links:
                raise ValueError(f"item {item!r} is already linked to {links[item]}")
            links[item] = expand_iri(entity)
    return links


Title = tuple[str, str]
"""(title, titleSource)."""


def _write_items(
    session: IngestSession,
    domain: Domain,
    items: set[str],
    titles: dict[str, Title],
    uris: dict[str, str],
    write_bare: bool,
) -> None:
    session.check_domain(items, domain)
    for item in sorted(items):
        title, title_source = titles.get(item, (None, None))
        props = {"title": title, "titleSource": title_source, "uri": uris.get(item)}
        props = {key: value for key, value in props.items() if value}
        if props or write_bare:
            session.writer.item(item, domain.label, props)
    if skipped := len((titles.keys() | uris.keys()) - items):
        session.notes.append(f"{skipped} items of the item table or .link are not ingested items")


def _item_uris(
    links: dict[str, str], candidates: dict[str, set[str]], items: set[str], notes: list[str]
) -> dict[str, str]:
    """`.link` first, else the one candidate of the item table; ambiguous items that are
    ingested are counted in a note (the table's other rows are not the data's)."""
    uris = dict(links)
    ambiguous = 0
    for item, options in candidates.items():
        if item not in uris:
            if len(options) == 1:
                uris[item] = next(iter(options))
            elif item in items:
                ambiguous += 1
    if ambiguous:
        notes.append(f"{ambiguous} items have several candidate IRIs and no .link line: no uri")
    return uris


def _titled_elsewhere(db: Database, options: IngestOptions, ids: list[str]) -> set[str]:
    """The items of `ids` whose stored title is not one made from their uri: another
    source (or an earlier item table) named them, and a uri's name must not replace it."""
    if options.bulk is not None:
        nodes = [options.bulk.nodes.get(("Item", item)) for item in ids]
        return {
            item
            for item, node in zip(ids, nodes, strict=True)
            if node is not None
            and node.props.get("title")
            and node.props.get("titleSource") != TITLE_FROM_URI
        }
    rows = db.query(
        "UNWIND $ids AS id MATCH (i:Item {id: id}) WHERE i.title IS NOT NULL "
        "AND coalesce(i[$key], '') <> $fromUri RETURN i.id AS id",
        ids=ids,
        key="titleSource",
        fromUri=TITLE_FROM_URI,
    )
    return {row["id"] for row in rows}


def _item_titles(
    db: Database,
    options: IngestOptions,
    table: dict[str, str],
    items: set[str],
    uris: dict[str, str],
    graph: dict[str, str | None],
    notes: list[str],
) -> dict[str, Title]:
    """The item table's titles, and for each item it does not name, the readable name of
    its DBpedia resource (this ingest's uri, else the graph's) unless a title is stored."""
    titles = {item: (title, TITLE_FROM_TABLE) for item, title in table.items() if title}
    named = {
        item: name
        for item in sorted(items - titles.keys())
        if (uri := uris.get(item) or graph.get(item)) and uri.startswith(DBR)
        if (name := readable_name(uri))
    }
    kept = _titled_elsewhere(db, options, list(named)) if named else set()
    titles.update(
        (item, (name, TITLE_FROM_URI)) for item, name in named.items() if item not in kept
    )
    if added := len(named) - len(kept):
        notes.append(
            f"{added} items the item table does not name are titled by their DBpedia "
            f"resource's name (titleSource '{TITLE_FROM_URI}')"
        )
    return titles


def _write_item_metadata(session: IngestSession, path: Path, items: set[str]) -> None:
    skipped = 0
    for line_no, text in numbered_lines(path, session.quarantine):
        iid, *tokens = text.split("\t")
        if line_no == 1 and iid.strip().lower() == "iid":
            continue
        session.quarantine.accepted()
        if iid not in items:
            skipped += 1
            continue
        for token in filter(None, (token.strip() for token in tokens)):
            prefix, _, local = token.partition(":")
            if prefix == "cat" and local:
                iri = PREFIXES["cat"] + local
                session.writer.relationship(HAS_SUBJECT, iid, iri, name=name_from_iri(iri))
            else:
                session.unmapped[f"item metadata {prefix}: token (relation unknown)"] += 1
    if skipped:
        session.notes.append(f"{skipped} item metadata lines of items not ingested skipped")


def _write_kg(session: IngestSession, path: Path, linked: dict[str, list[str]]) -> None:
    rows = _atomic_rows(path, session.quarantine, ("head_id", "relation_id", "tail_id"))
    for line_no, text, (head, token, tail) in rows:
        iris: tuple[str, str] | None = None
        with session.quarantine.guard(path, line_no, text):
            iris = expand_iri(head), expand_iri(tail)
        if iris is not None:
            _write_kg_fact(session, token, *iris, linked)


def _write_kg_fact(
    session: IngestSession, token: str, head_iri: str, tail_iri: str, linked: dict[str, list[str]]
) -> None:
    """One `.kg` line: a fact of a linked item, or a count of why it is not one."""
    relation = relation_for(token)
    if relation is None:
        session.unmapped[f"kg relation {token}"] += 1
    elif relation.source_label != "Item":
        session.unmapped[f"kg relation {token} (not an item fact)"] += 1
    elif head_iri not in linked:
        session.unmapped["(kg head is not a linked item)"] += 1
    elif relation.target_label == "Item":
        for target in linked.get(tail_iri, ()):
            session.writer.relationship(relation, head_iri, target, source_key="uri")
        if tail_iri not in linked:
            session.unmapped["(kg item-item tail is not a linked item)"] += 1
    else:
        session.writer.relationship(
            relation, head_iri, tail_iri, name=name_from_iri(tail_iri), source_key="uri"
        )


def ingest_amazon_kg(
    db: Database,
    files: AmazonKgFiles,
    domain: Domain,
    kcore: int = 0,
    options: IngestOptions | None = None,
) -> IngestReport:
    """Interactions, links, titles, subjects and DBpedia facts of one Amazon-KG domain."""
    given = files.given()
    if not given:
        raise SourceFileError("give at least one Amazon-KG file")
    config = {"files": [str(path) for path in given], "domain": domain.value, "kcore": kcore}
    source_file = "+".join(path.name for path in given)
    options = options or IngestOptions()
    with ingest_session(db, SOURCE, source_file, config, options) as session:
        quarantine = session.quarantine
        records: list[Interaction] = []
        sequences: Sequences | None = None
        if files.inter:
            records = list(read_table(files.inter, quarantine, "\t"))
            sequences = build_sequences(records, kcore)
        graph = graph_items(db, options)
        titles, candidates = read_item_table(files.items, quarantine) if files.items else ({}, {})
        known = {record.item for record in records} | titles.keys() | graph.keys()
        links = read_links(files.link, quarantine, known, session.skipped) if files.link else {}
        items = sequences.items if sequences is not None else set(graph)
        uris = _item_uris(links, candidates, items, session.notes)
        named = _item_titles(db, options, titles, items, uris, graph, session.notes)
        _write_items(session, domain, items, named, uris, write_bare=sequences is not None)
        if sequences is not None:
            session.write_sequences(sequences)
        if files.item_metadata:
            _write_item_metadata(session, files.item_metadata, items)
        if files.kg:
            session.writer.flush()
            linked: dict[str, list[str]] = defaultdict(list)
            for item, uri in graph_items(db, options).items():
                if uri is not None:
                    linked[uri].append(item)
            _write_kg(session, files.kg, linked)
    return session.report()
