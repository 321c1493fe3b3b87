"""`ingest interactions`: generic CSV/TSV and sequence files into the real Neo4j. The
fixture files are written here, in tmp_path."""

import csv
import gzip
import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from kgstore.db import Database
from kgstore.errors import CorruptSource, TooManyRejects
from kgstore.graph.mapping import Domain
from kgstore.ingest.session import IngestOptions, IngestReport
from kgstore.ingest.sources.interactions import (
    InteractionFormat,
    detect_format,
    ingest_interactions,
)
from kgstore.settings import Settings
from tests.ingest_checks import (
    check_resume_after_kill,
    count,
    graph_state,
    keys,
    quarantined,
    rated,
    run_kgctl,
    sequences_of,
)

HOSTILE_USER = "u'\"`]->() DETACH DELETE n //"
HOSTILE_ITEM = "i`}) DETACH DELETE n RETURN 1 //'\""


def write_csv(path: Path, rows: list[list[object]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return path


def ingest(db: Database, path: Path, options: IngestOptions, **kwargs: object) -> IngestReport:
    domain = kwargs.pop("domain", Domain.MOVIES)
    return ingest_interactions(db, path, domain, options=options, **kwargs)


def test_csv_header_in_any_order_sorts_by_time_and_keeps_file_order_for_ties(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "ratings.csv",
        [
            ["item", "user", "timestamp", "rating"],
            ["i3", "u1", 200, 3],
            ["i1", "u1", 100, 5],
            ["i2", "u1", 200, 4],
            ["i1", "u2", 50, 2.5],
            ["i2", "u2", 40, 1],
        ],
    )
    report = ingest(empty_graph, path, ingest_options)

    assert rated(empty_graph) == {
        "u1": [
            {"item": "i1", "pos": 0, "rating": 5.0, "ts": 100, "assumed": False},
            {"item": "i3", "pos": 1, "rating": 3.0, "ts": 200, "assumed": False},
            {"item": "i2", "pos": 2, "rating": 4.0, "ts": 200, "assumed": False},
        ],
        "u2": [
            {"item": "i2", "pos": 0, "rating": 1.0, "ts": 40, "assumed": False},
            {"item": "i1", "pos": 1, "rating": 2.5, "ts": 50, "assumed": False},
        ],
    }
    state = graph_state(empty_graph)
    assert (state.labels["User"], state.labels["Item"], state.labels["Movie"]) == (2, 3, 3)
    assert state.rel_types == {"RATED": 5}
    assert keys(empty_graph, "User") == {"u1": 0, "u2": 1}
    assert keys(empty_graph, "Item") == {"i1": 0, "i2": 1, "i3": 2}
    assert (report.records, report.rejected) == (5, 0)
    assert not any("no timestamps" in note for note in report.notes)


def test_headerless_tsv_without_timestamps_keeps_file_order_and_records_it(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_text("u1\ti3\nu1\ti1\nu2\ti1\n", encoding="utf-8")
    report = ingest(empty_graph, path, ingest_options, domain=Domain.BOOKS)

    assert rated(empty_graph) == {
        "u1": [
            {"item": "i3", "pos": 0, "rating": None, "ts": None, "assumed": True},
            {"item": "i1", "pos": 1, "rating": None, "ts": None, "assumed": True},
        ],
        "u2": [{"item": "i1", "pos": 0, "rating": None, "ts": None, "assumed": True}],
    }
    assert count(empty_graph, "MATCH (b:Book) RETURN count(b) AS c") == 2
    assert count(empty_graph, "MATCH (m:Movie) RETURN count(m) AS c") == 0
    assert any("no timestamps" in note for note in report.notes)


def test_sequence_file_lines_append_in_file_order_and_repeats_are_dropped(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    path = tmp_path / "sessions.txt"
    path.write_text("u1 i1 i2 i3\nu2 i2\nu1 i4\nu2 i5 i2\n", encoding="utf-8")
    report = ingest(empty_graph, path, ingest_options)

    sequences = rated(empty_graph)
    assert [row["item"] for row in sequences["u1"]] == ["i1", "i2", "i3", "i4"]
    assert [row["item"] for row in sequences["u2"]] == ["i2", "i5"]
    assert [row["pos"] for row in sequences["u1"]] == [0, 1, 2, 3]
    assert all(row["assumed"] for rows in sequences.values() for row in rows)
    assert report.records == 4
    assert any("1 repeated (user, item)" in note for note in report.notes)


@pytest.mark.parametrize(
    ("name", "first_line", "expected"),
    [
        ("a.csv", "u\ti\n", InteractionFormat.CSV),
        ("a.tsv.gz", "u,i\n", InteractionFormat.TSV),
        ("Books.inter", "u i\n", InteractionFormat.TSV),
        ("a.txt", "u1\ti1\n", InteractionFormat.TSV),
        ("a.txt", "u1,i1,5\n", InteractionFormat.CSV),
        ("a.dat", "u1 i1 i2\n", InteractionFormat.SEQUENCE),
    ],
)
def test_format_comes_from_the_extension_else_the_first_line(
    tmp_path: Path, name: str, first_line: str, expected: InteractionFormat
) -> None:
    path = tmp_path / name
    data = first_line.encode()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    assert detect_format(path) is expected


def test_kcore_drops_users_and_items_until_every_one_has_k(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    # x and u4 have one interaction each and go; then c has one user left and goes; then
    # u3 has one item left and goes: u1 and u2 keep a and b, and u1's b moves to pos 1.
    rows = [["user", "item", "rating", "timestamp"]]
    rows += [["u1", "a", 5, 1], ["u1", "x", 5, 2], ["u1", "b", 5, 3]]
    rows += [["u2", "a", 4, 1], ["u2", "b", 4, 2]]
    rows += [["u3", "a", 3, 1], ["u3", "c", 3, 2], ["u4", "c", 2, 1]]
    path = write_csv(tmp_path / "k.csv", rows)
    report = ingest(empty_graph, path, ingest_options, kcore=2)

    assert sequences_of(empty_graph) == {"u1": ["a", "b"], "u2": ["a", "b"]}
    assert [row["pos"] for row in rated(empty_graph)["u1"]] == [0, 1]
    assert keys(empty_graph, "Item").keys() == {"a", "b"}
    assert "2-core: 8 -> 4 interactions, 4 -> 2 users, 4 -> 2 items" in report.notes


BAD_CSV = (
    b"user,item,rating,timestamp\n"
    b"u1,i1,5,100\n"
    b"u1,i2,five,101\n"
    b"u1,i3,4,yesterday\n"
    b"u1,i4,4\n"
    b"u1,\xff\xfe,4,102\n"
    b"u2,i1,3,102\n"
    b"u2,i2,nan,103\n"
)
BAD_LINES = {
    3: "rating 'five' is not a number",
    4: "timestamp 'yesterday' is not a number",
    5: "expected 4 columns, found 3",
    6: "not UTF-8",
    8: "rating 'nan' is not a finite number",
}


def test_bad_lines_are_quarantined_with_file_and_line_and_over_the_threshold_nothing_kept(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(BAD_CSV)
    with pytest.raises(TooManyRejects) as failure:
        ingest(empty_graph, path, ingest_options)

    assert failure.value.exit_code == 3
    rejects = quarantined(ingest_options.quarantine_dir)
    assert {r["line"]: r["file"] for r in rejects} == {line: str(path) for line in BAD_LINES}
    for reject in rejects:
        assert BAD_LINES[reject["line"]] in reject["reason"]
    assert "nothing of this input was kept (2 good records" in str(failure.value)
    assert sequences_of(empty_graph) == {}


def test_rejects_under_the_threshold_do_not_fail_the_ingest(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(BAD_CSV)
    report = ingest(empty_graph, path, replace(ingest_options, max_reject_fraction=0.9))

    assert (report.records, report.rejected) == (2, 5)
    assert report.quarantine is not None
    assert sequences_of(empty_graph) == {"u1": ["i1"], "u2": ["i1"]}


def test_truncated_gzip_exits_non_zero_naming_the_last_line_and_keeps_what_was_stored(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    earlier = write_csv(tmp_path / "earlier.csv", [["u0", "item0", 5, 1]])
    assert (
        run_kgctl(
            settings,
            "ingest",
            "interactions",
            str(earlier),
            "--domain",
            "movies",
            output=tmp_path / "first.log",
        )
        == 0
    )
    before = graph_state(empty_graph)
    rng = random.Random(7)
    lines = [f"u{rng.randrange(10**6)}\titem{n}\t{rng.randint(1, 5)}\t{n}\n" for n in range(3000)]
    blob = gzip.compress("".join(lines).encode())
    path = tmp_path / "cut.tsv.gz"
    path.write_bytes(blob[: len(blob) // 2])

    log = tmp_path / "cut.log"
    code = run_kgctl(
        settings, "ingest", "interactions", str(path), "--domain", "movies", output=log
    )
    output = log.read_text()
    assert code == 2, output
    assert f"{path}: the compressed stream is cut or corrupt after line" in output
    assert "gzip -t" in output and "Traceback" not in output
    assert graph_state(empty_graph) == before


def test_a_file_that_ends_mid_record_fails_instead_of_losing_one_line(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    path = tmp_path / "cut.csv"
    path.write_text("user,item,rating\nu1,i1,5\nu1,i2,4\nu2,i1", encoding="utf-8")
    with pytest.raises(CorruptSource, match=r"cut.csv:4: the file ends mid-record"):
        ingest(empty_graph, path, ingest_options)
    assert count(empty_graph, "MATCH ()-[r:RATED]->() RETURN count(r) AS c") == 0
    # A last line without a newline that reads well is an ordinary last record.
    path.write_text("user,item,rating\nu1,i1,5\nu2,i1,3", encoding="utf-8")
    assert ingest(empty_graph, path, ingest_options).records == 2


def test_hostile_ids_are_stored_verbatim_and_change_nothing_else(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    empty_graph.query("CREATE (:Sentinel {name: 'still here'})")
    path = write_csv(
        tmp_path / "hostile.csv",
        [
            ["user", "item"],
            [HOSTILE_USER, HOSTILE_ITEM],
            [HOSTILE_USER, "plain"],
            ["u2", HOSTILE_ITEM],
        ],
    )
    ingest(empty_graph, path, ingest_options)

    sequences = rated(empty_graph)
    assert [row["item"] for row in sequences[HOSTILE_USER]] == [HOSTILE_ITEM, "plain"]
    assert [row["item"] for row in sequences["u2"]] == [HOSTILE_ITEM]
    state = graph_state(empty_graph)
    assert state.labels == {"User": 2, "Item": 2, "Movie": 2, "Sentinel": 1}
    assert state.rel_types == {"RATED": 3}


def test_ingesting_twice_changes_nothing(
    empty_graph: Database, settings: Settings, ingest_options: IngestOptions, tmp_path: Path
) -> None:
    path = tmp_path / "sessions.seq"
    path.write_text("u1 i1 i2 i3\nu2 i2 i1\nu3 i3\n", encoding="utf-8")
    first_report = ingest(empty_graph, path, ingest_options)
    first = graph_state(empty_graph)
    second_report = ingest(empty_graph, path, ingest_options)

    assert graph_state(empty_graph) == first
    assert first.rel_types == {"RATED": 6}
    assert first_report.relationships == second_report.relationships == {"RATED": 6}


def test_cli_exits_with_code_3_over_the_reject_threshold(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(BAD_CSV)
    log = tmp_path / "kgctl.log"
    args = ["ingest", "interactions", str(path), "--domain", "movies"]
    # A long quarantine folder: piped output must not wrap it (or anything) at 80 columns.
    deep = tmp_path / ("quarantine-" + "x" * 90)
    code = run_kgctl(settings, *args, "--quarantine-dir", str(deep), output=log)

    output = log.read_text()
    assert code == 3, output
    assert "5 of 7 records rejected" in output
    assert "nothing of this input was kept" in output
    assert count(empty_graph, "MATCH ()-[r:RATED]->() RETURN count(r) AS c") == 0
    # The report comes too, with the first rejects by file:line and the whole path.
    assert "2 records read, 5 rejected" in output
    assert f"rejected: {path}:" in output
    [quarantine_file] = deep.glob("*.jsonl")
    assert str(quarantine_file) in output
    [run] = empty_graph.query("MATCH (r:Run) RETURN r.status AS status, r.undo AS undo")
    assert run["status"] == "undone" and "rejects over the threshold" in run["undo"]


def test_killed_ingest_resumes_to_the_graph_of_an_uninterrupted_one(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(11)
    rows = [["user", "item", "rating", "timestamp"]]
    for user in range(300):
        for item in rng.sample(range(400), 20):
            rows.append([f"u{user}", f"i{item}", rng.randint(1, 5), rng.randrange(1000)])
    path = write_csv(tmp_path / "many.csv", rows)
    args = ["ingest", "interactions", str(path), "--domain", "movies", "--batch-size", "20"]
    args += ["--quarantine-dir", str(tmp_path / "q")]
    check_resume_after_kill(empty_graph, settings, args, total_rated=6000, tmp_path=tmp_path)


def test_json_output_is_the_report_and_quiet_prints_nothing(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "r.csv", [["u1", "i1", 5, 1], ["u1", "i2", 4, 2]])
    as_json = tmp_path / "json.log"
    args = ["ingest", "interactions", str(path), "--domain", "movies"]
    assert run_kgctl(settings, *args, "--json", output=as_json) == 0, as_json.read_text()
    [run] = json.loads(as_json.read_text())["runs"]
    assert (run["records"], run["rejected"], run["relationships"]) == (2, 0, {"RATED": 2})
    assert run["seconds"] > 0 and run["relationshipsPerSecond"] > 0

    quiet = tmp_path / "quiet.log"
    assert run_kgctl(settings, *args, "--quiet", output=quiet) == 0
    assert quiet.read_text() == ""
