"""A whole report: which run, what it shows, where the page goes."""

from pathlib import Path

from kgstore.db import Database
from kgstore.graph.mapping import Domain
from kgstore.report import sections
from kgstore.report.gather import (
    ReportError,
    RunNode,
    persona_run_of,
    report_run,
    text_sources,
)
from kgstore.report.limits import MAP_CAP
from kgstore.report.page import Html, page
from kgstore.report.persona_map import persona_map
from kgstore.stats import graph_stats

REPORT_FILE = "report.html"


def render_report(db: Database, run: RunNode, cap: int = MAP_CAP) -> str:
    """The page of a finished evaluation run (Table 1, Table 3, what the text embeddings
    were made from, SASRec and HDGI curves, the persona map and attention of the persona
    run it used) or persona run (the same without Table 3 and SASRec)."""
    persona = persona_run_of(db, run)
    domain = run.metrics.get("domain") if run.is_evaluation else run.domain
    view = None
    if persona is not None and persona.domain is not None:
        view = persona_map(db, persona.id, Domain(persona.domain), cap)
    parts: list[tuple[str, str, Html]] = [
        ("overview", "Overview", sections.overview(run, persona)),
        ("table1", "Table 1", sections.table1(graph_stats(db), domain)),
    ]
    if run.is_evaluation:
        parts.append(("table3", "Table 3", sections.table3(run)))
    parts.append(("texts", "Texts", sections.texts(text_sources(db, domain))))
    parts += [
        ("curves", "Curves", sections.curves(run if run.is_evaluation else None, persona)),
        ("personas", "Personas", sections.personas(run, persona, view)),
    ]
    if persona is not None:
        parts.append(("attention", "Attention", sections.attention(persona)))
        parts.append(("probe", "Probe", sections.probe(persona)))
    parts.append(("config", "Config", sections.config(run, persona)))
    what = "Evaluation" if run.is_evaluation else "Persona run"
    return page(
        f"{what} report: {domain or 'all domains'}",
        f"run {run.id}, finished {sections.when(run)}",
        parts,
        "Written by kgctl report from the Run nodes and the stored graph; self-contained "
        "(no external files).",
    )


def default_path(run: RunNode, runs_dir: Path) -> Path:
    """Next to the run's files: an evaluation run's artifacts directory, or
    `runs_dir / run id` for a persona run (which has no directory of its own)."""
    directory = run.metrics.get("artifacts")
    return Path(directory) / REPORT_FILE if directory else runs_dir / run.id / REPORT_FILE


def write_report(
    db: Database, run_id: str, out: Path | None, runs_dir: Path, cap: int = MAP_CAP
) -> Path:
    """Render the report of `run_id` (or `latest`) into `out` (default: `default_path`),
    with at most `cap` users on the persona map; returns the path written."""
    run = report_run(db, run_id)
    path = out or default_path(run, runs_dir)
    html = render_report(db, run, cap)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write the report to {path}: {exc.strerror}") from None
    return path
