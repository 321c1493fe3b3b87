"""The HTML of each part of a report, from what `gather`, `persona_map` and the `Run`
metrics hold (plain dicts and dataclasses; the figures are drawn here)."""

import json
from typing import Any

from kgstore.embeddings.texts import sources_summary
from kgstore.personas.probe_rows import PROBE_HEADERS, probe_rows, spread_line
from kgstore.ranking.stats import ALPHA, MARKED_BY, NO_SEED_TEST, TEST_TITLES, p_text
from kgstore.report import figures
from kgstore.report.gather import RunNode, TextSources
from kgstore.report.page import (
    Cell,
    Html,
    code,
    element,
    facts,
    figure,
    join,
    note,
    section,
    table,
)
from kgstore.report.persona_map import NEIGHBOURS, PersonaMap
from kgstore.stats import GraphStats

TABLE1_COLUMNS = ("users", "items", "interactions", "entities", "triples")
BASELINE = "none/random"
CHART_METRICS = ("HR@10", "NDCG@10")
METRICS = ("HR", "NDCG", "MRR")
"""Column order of each cutoff (kgstore.ranking.metrics.METRICS, which imports torch)."""
SLICE_TITLES = {
    "all users": "All evaluated users",
    "cold-start": "Cold-start users (at most {cold_start} training interactions)",
    "anonymous session": "Anonymous sessions (users held out of persona learning)",
}


def pm(mean: float, std: float | None) -> Html:
    """Mean over the std (smaller, below it): keeps the many metric columns narrow. No std
    (one seed): the mean alone."""
    if std is None:
        return Html(f"{mean:.4f}")
    return Html(f'{mean:.4f}<span class="std">&plusmn; {std:.4f}</span>')


def metric_order(name: str) -> tuple[int, int, str]:
    """`HR@10`, `NDCG@10`, `MRR@10`, then the same at 100 (the stored JSON sorts keys)."""
    metric, _, k = name.partition("@")
    digits = k.split(" ", 1)[0]
    rank = METRICS.index(metric) if metric in METRICS else len(METRICS)
    return int(digits) if digits.isdigit() else 0, rank, name


def when(run: RunNode) -> str:
    if run.finished is None:
        return "-"
    took = f" ({run.seconds:,.0f} s)" if run.seconds is not None else ""
    return run.finished.strftime("%Y-%m-%d %H:%M UTC") + took


def table1(stats: GraphStats, domain: str | None) -> Html:
    """Table 1 per domain and for the whole graph; the run's domain highlighted."""
    rows, attrs = [], []
    for name, counts in stats.domains.items():
        rows.append([name.value, *(f"{getattr(counts, c):,}" for c in TABLE1_COLUMNS)])
        attrs.append({"class_": "highlight" if name.value == domain else None})
    rows.append(["all domains", *(f"{getattr(stats, c):,}" for c in TABLE1_COLUMNS)])
    attrs.append({})
    return section(
        "table1",
        "Table 1: the stored graph",
        table(["domain", *TABLE1_COLUMNS], rows, attrs, id="table1", class_="compact"),
        note(
            "Users who rated the domain's items, its items, their RATED interactions, the "
            "entities they link to and every relationship from them (facts and item-item "
            "links). Entities shared by two domains count in both."
            + (f" Highlighted: {domain}, the run's domain." if domain else "")
        ),
    )


def _stored_std(value: dict[str, Any]) -> float | None:
    """The std over seeds, None with one seed (runs stored before issue 18 held 0 there)."""
    return value["std"] if value.get("seeds", 2) > 1 else None


def _means_table(name: str, rows: list[dict[str, Any]], metrics: list[str]) -> Html:
    best = {m: max(row["metrics"][m]["mean"] for row in rows) for m in metrics}
    body, attrs = [], []
    for row in rows:
        cells: list[object] = [row["config"], f"{row['users']:,}"]
        for m in metrics:
            value = row["metrics"][m]
            best_mark = " best" if value["mean"] == best[m] else ""
            cells.append(Cell(pm(value["mean"], _stored_std(value)), "num" + best_mark))
        body.append(cells)
        baseline = "baseline" if row["config"] == BASELINE else None
        attrs.append({"data_config": row["config"], "class_": baseline})
    return table(["config", "users", *metrics], body, attrs, class_="table3", data_slice=name)


def _p_cell(test: dict[str, Any] | None, mark: str = "") -> Cell:
    """Raw p over its Holm-adjusted value (smaller, below it), as `pm` keeps columns narrow."""
    if test is None:
        return Cell(NO_SEED_TEST, "num")
    shown = Html(f'{p_text(test["p_value"])}<span class="std">Holm {p_text(test["p_holm"])}</span>')
    return Cell(shown, f"num {mark}".strip())


def _tests_table(name: str, rows: list[dict[str, Any]], tested: list[str]) -> Html:
    """Every comparison of the slice: the difference and the three tests of each headline
    metric, raw p with the Holm-adjusted p in parentheses; the marked test coloured."""
    body, attrs = [], []
    for row in rows:
        for test in row["tests"]:
            cells: list[object] = [row["config"], test["against"], test["differs"]]
            for m in tested:
                stored = test["metrics"][m]
                cells.append(Cell(f"{stored['difference']:+.4f}", "num"))
                marks = {MARKED_BY: stored["verdict"]}
                cells += [_p_cell(stored[kind], marks.get(kind, "")) for kind in TEST_TITLES]
            body.append(cells)
            attrs.append({"data_config": row["config"], "data_against": test["against"]})
    headers = ["row", "against", "differs"]
    for m in tested:
        headers += [f"Δ {m}", *[f"{TEST_TITLES[kind]} ({m})" for kind in TEST_TITLES]]
    return table(headers, body, attrs, class_="table3-tests", data_slice=name)


def table3(run: RunNode) -> Html:
    """Every slice's rows (mean +- std over seeds, the best of each column bold), its
    comparisons with their tests, and one chart of HR@10 and NDCG@10."""
    metrics = run.metrics
    stored = metrics["rows"]
    names = sorted(stored[0]["metrics"], key=metric_order) if stored else []
    seeds = metrics["config"]["seeds"]
    statistics = metrics.get("statistics")
    spread = (
        f"Mean &plusmn; std over {seeds} seeds (sample std)."
        if seeds > 1
        else f"Mean over one seed ({NO_SEED_TEST}: no std)."
    )
    parts: list[object] = [
        note(Html(f"{spread} Bold: the best mean of each column within the slice."))
    ]
    if statistics is None:
        parts.append(
            note(
                "This run was stored before rows were compared with their neighbours and "
                "corrected for multiple tests: its tables show means only (run the grid "
                "again for the tests)."
            )
        )
    else:
        parts.append(element("ul", join(element("li", line) for line in statistics["notes"])))
    slices = list(dict.fromkeys(row["slice"] for row in stored))
    cold_start = metrics["config"].get("cold_start", "?")
    for name in slices:
        rows = [row for row in stored if row["slice"] == name]
        title = SLICE_TITLES.get(name, name).replace("{cold_start}", str(cold_start))
        parts += [element("h3", title), _means_table(name, rows, names)]
        if statistics is not None:
            parts.append(_tests_table(name, rows, statistics["headline"]))
    chart_rows = [row for row in stored if row["slice"] == "all users"] or stored
    shown = [m for m in CHART_METRICS if m in names]
    if chart_rows and shown:
        marked = statistics["headline"][0] if statistics else None
        uri = figures.metric_bars(
            [row["config"] for row in chart_rows],
            shown,
            [[row["metrics"][m]["mean"] for m in shown] for row in chart_rows],
            [[_stored_std(row["metrics"][m]) or 0.0 for m in shown] for row in chart_rows],
            [_bar_colour(row, marked) for row in chart_rows],
            f"{chart_rows[0]['slice']}: mean and std over {seeds} seed(s)",
        )
        parts.append(
            figure(
                uri,
                "Table 3 chart",
                f"Grey: the baseline {BASELINE}; green / red: better / worse than it on "
                f"{marked} (adjusted p users x seeds < {ALPHA}); blue: no significant "
                "difference.",
            )
        )
    parts.append(_notes(metrics))
    return section("table3", f"Table 3: recommendation ({metrics['domain']})", *parts)


def _bar_colour(row: dict[str, Any], metric: str | None) -> str:
    if row["config"] == BASELINE:
        return figures.BASELINE_COLOUR
    against = [t for t in row.get("tests", []) if t["differs"] == "baseline"]
    mark = against[0]["metrics"][metric]["verdict"] if against and metric else ""
    return {"better": figures.SIGNIFICANT, "worse": figures.WORSE}.get(mark, figures.ACCENT)


def _notes(metrics: dict[str, Any]) -> Html:
    lines = list(metrics.get("notes", []))
    lines += [f"{what}: {label}" for what, label in metrics.get("labels", {}).items()]
    return element("ul", join(element("li", line) for line in lines), class_="notes")


def curves(evaluation: RunNode | None, persona: RunNode | None) -> Html:
    parts: list[object] = []
    if evaluation is not None:
        stored = evaluation.metrics.get("curves")
        if stored:
            parts.append(
                figure(
                    figures.sasrec_curves(stored),
                    "SASRec training curves",
                    "One line per grid row and seed. The model kept is the one of the best "
                    "validation epoch (star); the test numbers of Table 3 are that model's.",
                )
            )
        else:
            parts.append(note("This evaluation run predates per-epoch curves in its Run node."))
    if persona is not None:
        losses = persona.metrics.get("losses", [])
        if losses:
            parts.append(
                figure(
                    figures.hdgi_loss(losses, int(persona.metrics.get("best_epoch", 0))),
                    "HDGI loss curve",
                    f"Persona run {persona.id}: early stopping on the training loss (the DGI "
                    "objective has no validation signal), stopped by "
                    f"{persona.metrics.get('stopped', 'patience')}; the personas are those "
                    "of the kept epoch.",
                )
            )
    return section("curves", "Training curves", *parts)


def metapath_meaning(name: str) -> str:
    """What joins two users along a meta-path (`UIU`, `UIEIU:<family>`, `UIIU:also`)."""
    shape, _, family = name.partition(":")
    if shape == "UIU":
        return "items both rated"
    if shape == "UIEIU":
        return f"rated items that share a {family} entity"
    if shape == "UIIU":
        return f"rated items linked item to item ({family})"
    return name


def attention(persona: RunNode) -> Html:
    """The learned weight of each meta-path, as a chart and as a table of exact values."""
    weights = persona.metrics.get("semantic_weights") or {}
    if not weights:
        return section("attention", "Semantic attention", note("The run stored no weights."))
    ordered = sorted(weights.items(), key=lambda kv: -kv[1])
    labels = {path: f"{path}: {metapath_meaning(path)}" for path in weights}
    rows = [[path, metapath_meaning(path), f"{weight:.4f}"] for path, weight in ordered]
    return section(
        "attention",
        "Semantic attention per meta-path",
        figure(
            figures.attention_bars(weights, labels),
            "semantic-attention weights",
            f"Persona run {persona.id}: how much each meta-path contributes to the personas, "
            "the HDGI semantic-attention weight averaged over users (the weights sum to 1).",
        ),
        table(
            ["meta-path", "joins two users through", "weight"],
            rows,
            id="attention-weights",
            class_="compact",
        ),
    )


def probe(persona: RunNode) -> Html:
    """What the personas alone predict (`kgctl personas probe`), beside a constant persona
    and chance, and how spread they are."""
    found = persona.metrics.get("probe")
    if not found:
        return section(
            "probe",
            "Persona probe",
            note(
                f"Persona run {persona.id} has no probe (older runs, or no user with a "
                f"validation item): `kgctl personas probe --run {persona.id}` records one."
            ),
        )
    return section(
        "probe",
        "Persona probe",
        note(
            f"Persona run {persona.id}: top-10 hit rate of each user's validation item (and "
            "of its entities per relation family) ranked by the persona alone, through a "
            "linear map fitted on the other half of the users' training items; beside it "
            f"the same map with no persona (the mean target) and a random top 10. "
            f"Personas: {spread_line(found)}."
        ),
        table(
            list(PROBE_HEADERS),
            probe_rows(found),
            id="persona-probe",
            class_="compact",
        ),
    )


def overview(run: RunNode, persona: RunNode | None) -> Html:
    m = run.metrics
    if run.is_evaluation:
        sasrec = m["config"].get("sasrec", {})
        pairs: list[tuple[str, object]] = [
            ("run", code(run.id)),
            ("domain", m.get("domain", run.domain)),
            ("finished", when(run)),
            ("device", m.get("device", "-")),
            ("rows x seeds", f"{len(m['config']['rows'])} x {m['config']['seeds']}"),
            ("evaluated users", f"{m.get('slices', {}).get('all users', 0):,}"),
            (
                "SASRec",
                f"{sasrec.get('min_epochs', 0)} to {sasrec.get('max_epochs')} epochs, patience "
                f"{sasrec.get('patience')}, "
                f"max_len {sasrec.get('max_len')}, loss {sasrec.get('loss')}",
            ),
            ("persona run", code(persona.id) if persona else "none (no kg row)"),
        ]
    else:
        pairs = [
            ("run", code(run.id)),
            ("domain", run.domain or "-"),
            ("finished", when(run)),
            ("device", m.get("device", "-")),
            ("users with a persona", f"{m.get('users', 0):,}"),
            ("held out of learning", f"{m.get('held_out_users', 0):,}"),
            ("training interactions", f"{m.get('training_interactions', 0):,}"),
            (
                "epochs (kept)",
                f"{m.get('epochs', 0)} ({m.get('best_epoch', '-')})",
            ),
            ("loss first -> best", f"{m.get('first_loss', 0):.4g} -> {m.get('best_loss', 0):.4g}"),
        ]
    return section("overview", "Overview", facts(pairs))


def config(run: RunNode, persona: RunNode | None) -> Html:
    blocks = [(f"run {run.id}", run.config)]
    if persona is not None and persona is not run:
        blocks.append((f"persona run {persona.id}", persona.config))
    parts = [
        element(
            "details",
            join(
                [element("summary", f"Config of {name}"), element("pre", json.dumps(c, indent=2))]
            ),
        )
        for name, c in blocks
    ]
    return section("config", "Configuration", *parts)


def no_persona_run(run: RunNode) -> str:
    """Why an evaluation run has no persona run to show."""
    rows = run.metrics.get("config", {}).get("rows", [])
    if not any(row.startswith("kg/") for row in rows):
        return "No persona run behind this run: none of its rows has user kg."
    if "persona_run" not in run.metrics:
        return (
            "This run predates the record of the persona run it used: report the persona run "
            "itself (`kgctl runs --kind train`)."
        )
    return f"The persona run {run.metrics['persona_run']} is no longer in the graph."


def personas(run: RunNode, persona: RunNode | None, view: PersonaMap | None) -> Html:
    """The persona maps side by side, each with what its colours mean and how often a
    user's nearest personas share the user's colour."""
    if persona is None:
        return section("personas", "Persona map", note(no_persona_run(run)))
    if view is None:
        return section(
            "personas",
            "Persona map",
            note(
                f"Fewer than 5 users still hold a {persona.domain} persona of run "
                f"{persona.id}: a later {persona.domain} persona run replaced them "
                "(`kgctl report` that run instead)."
            ),
        )
    sample = view.sample
    drawn = (
        f"all {sample.total:,} users"
        if len(sample.users) == sample.total
        else f"a seeded random sample of {len(sample.users):,} of its {sample.total:,} "
        "users, the cap of --map-users"
    )
    maps = []
    for colouring in view.colourings:
        agreement = (
            f" Of each user's {NEIGHBOURS} nearest personas (cosine, full dimension), "
            f"{colouring.agreement:.1%} share the user's {colouring.title}; "
            f"{colouring.chance:.1%} would by chance."
            if colouring.agreement == colouring.agreement
            else ""
        )
        maps.append(
            figure(
                figures.persona_scatter(view.points, colouring.labels, colouring.order),
                f"persona map by {colouring.title}",
                join([element("b", f"By {colouring.title}: "), colouring.rule, ".", agreement]),
            )
        )
    return section(
        "personas",
        "Persona map",
        note(
            f"t-SNE of the personas of run {persona.id} ({drawn}), centred and scaled to unit "
            "length. Distances between clusters on a t-SNE map mean little; the agreement "
            "figures below each map are measured in the persona space itself."
        ),
        element("div", join(maps), class_="maps"),
    )


def texts(sources: TextSources) -> Html:
    """Which texts the item and entity vectors encode, counted per `textSource`."""
    return section(
        "texts",
        "Text embeddings",
        note(
            "Item vectors (Item.textEmbedding) were embedded from: "
            f"{sources_summary(sources.items)}. Entities are embedded from their names "
            "(the readable local name of their uri where they have none): "
            f"{sources_summary(sources.entities)}. Sources: llm / title+facts = "
            "llmDescription (by an LLM / without one), title = title and description, uri = "
            "the DBpedia resource's name, facts = the item's KG facts, placeholder = only "
            "the item's kind and id. Counts as the graph holds them now."
        ),
    )
