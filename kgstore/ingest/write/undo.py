"""Take one ingest run out of the graph exactly (`kgctl runs undo RUN`, and an ingest
that ends over its reject threshold).

What the run created goes: the relationships whose `ingestRun` is the run and the
nodes whose `ingestRuns` starts with it. What it changed on nodes and relationships
that existed before it comes back from its undo records (`undo_records`): the
properties it overwrote (a property it added is removed), the labels it added, the
provenance (`source`, `sourceFile`, `ingestRun`, `ingestRuns`) of the earlier writer.

Exact or nothing: before changing anything, the undo is refused, naming what stands in
the way, when the result would not be the graph as it was before the run —
- the run kept no undo records (ingested before they existed, or a bulk import's later run);
- a later run wrote over what this run wrote (its values, not this run's, would be lost);
- a later run, or something outside ingests, linked to a node this run created;
- later runs numbered nodes after this run's (their dense `idx` would leave a gap).
Undo the later runs first (newest first), then this one.

Dense `idx` and RATED `pos` need no renumbering: created nodes carry the highest `idx`
of their label (else the undo is refused), and RATED relationships are removed or
restored whole, so each user's sequence is the one from before the run.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from kgstore.db import Database
from kgstore.errors import UndoRefused
from kgstore.graph.batched import BATCH, delete_in_batches
from kgstore.graph.mapping import NODE_KEYS, cypher_label
from kgstore.graph.runs import RunKind, mark_interrupted_runs, record_run_undone
from kgstore.graph.undo_records import Kind, delete_records, load_entries, written_over
from kgstore.ingest.write.writer import Provenance

SHOWN = 5
"""Examples a refusal names per reason."""
PROVENANCE_KEYS = frozenset(Provenance("", "").as_props())


@dataclass(frozen=True)
class Undone:
    """What an undo removed and put back."""

    run: str
    relationships_deleted: int
    nodes_deleted: int
    relationships_restored: int
    nodes_restored: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def undo_ingest_run(db: Database, run_id: str, reason: str = "kgctl runs undo") -> Undone:
    """Remove what ingest run `run_id` created and restore what it changed, then mark the
    run `undone` (with `reason`). Raises UndoRefused, changing nothing, when that would
    not give back the graph from before the run. Run again after an interruption: each
    step only finds what is left to do."""
    check_undoable(db, run_id)
    relationships_restored = _restore(db, run_id, Kind.RELATIONSHIP)
    relationships_deleted = delete_in_batches(
        db, "MATCH ()-[r]->() WHERE r.ingestRun = $run", "r", run=run_id
    )
    nodes_restored = _restore(db, run_id, Kind.NODE)
    nodes_deleted = sum(
        delete_in_batches(db, _created_nodes(base), "n", run=run_id) for base in NODE_KEYS
    )
    delete_records(db, run_id)
    undone = Undone(
        run_id, relationships_deleted, nodes_deleted, relationships_restored, nodes_restored
    )
    record_run_undone(db, run_id, {**undone.as_dict(), "reason": reason})
    return undone


def _created_nodes(base: str) -> str:
    """Nodes of `base` the run created: it is the first run that wrote them."""
    return f"MATCH (n:{cypher_label(base)}) WHERE n.ingestRuns[0] = $run"


_RESTORE = {
    Kind.NODE: (
        "UNWIND $entries AS e MATCH (n) WHERE id(n) = e.id AND $run IN n.ingestRuns "
        "SET n += e.props, n.ingestRuns = e.ingestRuns "
        "WITH n, [label IN labels(n) WHERE NOT label IN e.labels] AS added "
        "REMOVE n:$(added) RETURN count(n) AS restored"
    ),
    Kind.RELATIONSHIP: (
        "UNWIND $entries AS e MATCH ()-[r]->() WHERE id(r) = e.id AND r.ingestRun = $run "
        "SET r += e.props, r.ingestRun = e.ingestRun RETURN count(r) AS restored"
    ),
}
"""Put back one batch of entries; the guard (the run still wrote it last) skips an
entry already restored and an id Neo4j has since given to something else."""


def _restore(db: Database, run_id: str, kind: Kind) -> int:
    entries = load_entries(db, run_id, kind)
    restored = 0
    for start in range(0, len(entries), BATCH):
        batch = entries[start : start + BATCH]
        restored += db.query(_RESTORE[kind], entries=batch, run=run_id)[0]["restored"]
    return restored


def check_undoable(db: Database, run_id: str) -> None:
    """Raise UndoRefused naming every reason the undo would not be exact."""
    _check_run(db, run_id)
    reasons = [
        *_written_over_by_later_runs(db, run_id),
        *_linked_to_created_nodes(db, run_id),
        *_numbered_after(db, run_id),
    ]
    if reasons:
        raise UndoRefused(
            f"run {run_id} cannot be undone exactly, so nothing was changed:\n"
            + "\n".join(f"- {reason}" for reason in reasons)
            + "\nUndo the later runs first (newest first, `kgctl runs --kind ingest` lists "
            "them), or start the domain over with `kgctl db clear --domain`."
        )


def _check_run(db: Database, run_id: str) -> None:
    mark_interrupted_runs(db)
    rows = db.query(
        "MATCH (r:Run {id: $id}) RETURN r.kind AS kind, r.status AS status, "
        "r.undoRecords AS records, r.pid AS pid, r.host AS host",
        id=run_id,
    )
    if not rows or rows[0]["kind"] != RunKind.INGEST:
        raise UndoRefused(f"there is no ingest run {run_id}: `kgctl runs --kind ingest` lists them")
    [run] = rows
    if run["status"] == "undone":
        raise UndoRefused(f"run {run_id} is already undone")
    if run["status"] == "running":
        raise UndoRefused(
            f"run {run_id} is still running (process {run['pid']} on {run['host']}): wait for "
            "it to end, or stop it, then undo it"
        )
    if not run["records"]:
        raise UndoRefused(
            f"run {run_id} kept no undo records (it was ingested before kgstore kept them, "
            "or by a bulk import after another run of the same import), so what it changed "
            "on earlier data cannot be put back; nothing was changed. `kgctl db clear "
            "--domain` starts a domain over."
        )


def _written_over_by_later_runs(db: Database, run_id: str) -> list[str]:
    """Later runs that wrote over what this run wrote last: from their undo records
    (named with the properties), and from the nodes' `ingestRuns` (runs without records)."""
    over: dict[str, list[tuple[Kind, dict[str, Any]]]] = defaultdict(list)
    for later, kind, entry in written_over(db, run_id):
        over[later].append((kind, entry))
    names = _describe(
        db, [(kind, entry["id"]) for entries in over.values() for kind, entry in entries[:SHOWN]]
    )
    reasons = []
    for later, entries in sorted(over.items()):
        shown = [
            f"{names.get((kind, entry['id']), kind.value)} ({_changed(entry)})"
            for kind, entry in entries[:SHOWN]
        ]
        reasons.append(
            f"run {later} later wrote over what this run wrote: {_listed(shown, len(entries))}"
        )
    for later, (count, keys) in sorted(_later_in_ingest_runs(db, run_id).items()):
        if later not in over:
            reasons.append(
                f"run {later} later wrote {_counted(count, 'node')} this run wrote: "
                f"{_listed(keys, count)}"
            )
    return reasons


def _later_in_ingest_runs(db: Database, run_id: str) -> dict[str, tuple[int, list[str]]]:
    """Runs listed after `run_id` in `ingestRuns`: (nodes, a few of their keys) by run."""
    found: dict[str, tuple[int, list[str]]] = {}
    for base, key in NODE_KEYS.items():
        rows = db.query(
            f"MATCH (n:{cypher_label(base)}) WHERE $run IN n.ingestRuns "
            "AND last(n.ingestRuns) <> $run WITH n, last(n.ingestRuns) AS later "
            f"RETURN later, count(n) AS c, collect('{base} ' + n.{key})[..$shown] AS keys",
            run=run_id,
            shown=SHOWN,
        )
        for row in rows:
            count, keys = found.get(row["later"], (0, []))
            found[row["later"]] = (count + row["c"], (keys + row["keys"])[:SHOWN])
    return found


def _linked_to_created_nodes(db: Database, run_id: str) -> list[str]:
    """Relationships of other runs (or of no ingest) at nodes this run created: removing
    the nodes would remove them too."""
    reasons = []
    for base in NODE_KEYS:
        rows = db.query(
            f"{_created_nodes(base)} MATCH (n)-[r]-() "
            "WHERE r.ingestRun IS NULL OR r.ingestRun <> $run "
            "WITH DISTINCT r RETURN r.ingestRun AS other, count(r) AS c, "
            "collect(id(r))[..$shown] AS ids",
            run=run_id,
            shown=SHOWN,
        )
        for row in rows:
            names = _describe(db, [(Kind.RELATIONSHIP, rel_id) for rel_id in row["ids"]])
            writer = f"run {row['other']}" if row["other"] else "no ingest (another command)"
            reasons.append(
                f"{_counted(row['c'], 'relationship')} written by {writer} end at {base} "
                f"nodes this run created: {_listed(list(names.values()), row['c'])}"
            )
    return reasons


def _numbered_after(db: Database, run_id: str) -> list[str]:
    """Nodes of other runs whose dense `idx` is above one of this run's created nodes:
    removing those would leave a gap in the rows of exported tensors."""
    reasons = []
    for base, key in NODE_KEYS.items():
        rows = db.query(
            f"{_created_nodes(base)} AND n.idx IS NOT NULL WITH min(n.idx) AS low "
            f"MATCH (m:{cypher_label(base)}) WHERE m.idx > low "
            "AND coalesce(m.ingestRuns[0], '') <> $run "
            f"RETURN count(m) AS c, collect(DISTINCT m.ingestRuns[0])[..$shown] AS runs, "
            f"collect(m.{key})[..$shown] AS keys",
            run=run_id,
            shown=SHOWN,
        )
        if rows and rows[0]["c"]:
            row = rows[0]
            runs = ", ".join(filter(None, row["runs"])) or "no ingest"
            reasons.append(
                f"{_counted(row['c'], base + ' node')} of later runs ({runs}) come after "
                f"the ones this run created in the dense idx, e.g. {', '.join(row['keys'])}: "
                "removing this run's would leave a gap"
            )
    return reasons


def _describe(db: Database, refs: Iterable[tuple[Kind, int]]) -> dict[tuple[Kind, int], str]:
    """`Item b1`, `RATED u1->b1`: readable names of nodes and relationships by id."""
    refs = list(refs)
    nodes = [ref_id for kind, ref_id in refs if kind is Kind.NODE]
    rels = [ref_id for kind, ref_id in refs if kind is Kind.RELATIONSHIP]
    names: dict[tuple[Kind, int], str] = {}
    for row in db.query(
        "MATCH (n) WHERE id(n) IN $ids RETURN id(n) AS id, "
        "[l IN labels(n) WHERE l IN $bases][0] + ' ' + coalesce(n.id, n.uri) AS name",
        ids=nodes,
        bases=list(NODE_KEYS),
    ):
        names[(Kind.NODE, row["id"])] = row["name"]
    for row in db.query(
        "MATCH (s)-[r]->(t) WHERE id(r) IN $ids RETURN id(r) AS id, "
        "type(r) + ' ' + coalesce(s.id, s.uri) + '->' + coalesce(t.id, t.uri) AS name",
        ids=rels,
    ):
        names[(Kind.RELATIONSHIP, row["id"])] = row["name"]
    return names


def _changed(entry: dict[str, Any]) -> str:
    """The properties a record says were overwritten, provenance aside."""
    props = sorted(set(entry["props"]) - PROVENANCE_KEYS)
    return ", ".join(props) if props else "provenance, labels"


def _counted(count: int, what: str) -> str:
    return f"{count:,} {what}" + ("" if count == 1 else "s")


def _listed(shown: list[str], count: int) -> str:
    more = count - len(shown)
    return ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")


def summary(undone: Undone) -> str:
    """One line for the console."""
    return (
        f"run {undone.run} undone: removed {_counted(undone.nodes_deleted, 'node')} and "
        f"{_counted(undone.relationships_deleted, 'relationship')} it created, restored "
        f"{_counted(undone.nodes_restored, 'node')} and "
        f"{_counted(undone.relationships_restored, 'relationship')} it changed"
    )
