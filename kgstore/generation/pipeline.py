"""`kgctl generate descriptions|keywords`: the paper's two texts, generated from the graph
and cached in it.

- Item descriptions (`generate_descriptions`): one per item with a title and a domain
  label, written to the Item as `llmDescription`.
- Preference keywords (`generate_keywords`): one per user of a domain, from the user's
  TRAINING items only (`LeaveOneOut` of the stored sequences: the validation and test
  items never reach a prompt), written to the User as `preferenceKeywords<Label>`
  (`preferenceKeywordsMovie`, `preferenceKeywordsBook`): a user may rate in both domains,
  and each domain's keywords describe that domain's history.

Beside each text: the model (`…Model`), the prompt version (`…PromptVersion`), the run
(`…Run`) and `…Hash`, a hash of model, version and input (the prompt, or the non-LLM
text); beside keywords also `…Items`, the training items they were made from, written
when a run has finished (so the grid can refuse keywords made from another split, or from
a held-out item: kgstore.recsys.leakage). A node is sent to the generator again only when
that hash changed: a new title, new training items, new facts, another model or another
prompt version. Without a generator the non-LLM texts of `fallback` are written, with
model `FALLBACK_MODEL`.

Nodes go in batches; each batch is generated in full (or not at all) and then written in
one transaction, so a generator failing mid-run leaves every stored text complete, the
run marked failed, and the same command resumes where it stopped. Stored values are read
as `n[$key]`: Neo4j warns about an unknown literal property key (on every first run), not
about a parameter.
"""

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from kgstore.db import Database, open_database
from kgstore.errors import KgstoreError
from kgstore.generation.base import Generator
from kgstore.generation.facts import read_item_facts
from kgstore.generation.fallback import (
    FALLBACK_DESCRIPTION_VERSION,
    FALLBACK_KEYWORDS_VERSION,
    FALLBACK_MODEL,
    fallback_description,
    fallback_keywords,
)
from kgstore.generation.openai_compatible import generator_from_settings
from kgstore.generation.prompts import (
    DESCRIPTION_PROMPT_VERSION,
    KEYWORDS_PROMPT_VERSION,
    description_prompt,
    keywords_prompt,
)
from kgstore.graph.mapping import Domain, cypher_label
from kgstore.graph.runs import RunKind, record_run_end, record_run_error, record_run_start
from kgstore.graph.sequences import read_sequences
from kgstore.graph.split import LeaveOneOut
from kgstore.graph.user_properties import keywords_property
from kgstore.settings import Settings

DEFAULT_BATCH = 64
DESCRIPTION_PROPERTY = "llmDescription"
Progress = Callable[[int, int], None]
"""Called with (nodes handled, nodes in all) after every batch."""
Inputs = Callable[[list[dict[str, Any]]], dict[str, str]]
"""A batch of rows (`key`, …) -> the generator's input of each key that has one."""


class GenerateTarget(StrEnum):
    DESCRIPTIONS = "descriptions"
    KEYWORDS = "keywords"


@dataclass(frozen=True)
class GenerationReport:
    run: str
    target: str
    domain: str | None
    model: str
    prompt_version: str
    llm: bool
    """False when no generator was configured and the non-LLM texts were written."""
    nodes: int
    generated: int
    unchanged: int
    skipped: int
    """Items without a title (nothing to describe)."""
    seconds: float

    @property
    def texts_per_second(self) -> float:
        return self.generated / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "textsPerSecond": round(self.texts_per_second, 2)}


@dataclass(frozen=True)
class _Job:
    target: GenerateTarget
    domain: Domain | None
    label: str
    prefix: str
    model: str
    version: str


def input_hash(model: str, version: str, text: str) -> str:
    return hashlib.sha256(f"{model}\0{version}\0{text}".encode()).hexdigest()[:24]


def generate_descriptions(
    db: Database,
    generator: Generator | None,
    domain: Domain | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> GenerationReport:
    """Describe every item of `domain` (of every domain when None) whose input changed;
    see the module doc. Without a generator: the title + KG facts text."""
    labels = [domain.label] if domain is not None else [each.label for each in Domain]
    rows = db.query(
        "MATCH (i:Item) WITH i, [l IN labels(i) WHERE l IN $labels] AS domains "
        "WHERE domains <> [] RETURN i.id AS key, trim(i.title) AS title, "
        "domains[0] AS domain, i[$hash] AS hash ORDER BY key",
        labels=labels,
        hash=f"{DESCRIPTION_PROPERTY}Hash",
    )
    if not rows:
        raise KgstoreError(f"no {' or '.join(labels)} items in the graph: ingest them first")
    by_label = {each.label: each for each in Domain}

    def inputs(batch: list[dict[str, Any]]) -> dict[str, str]:
        titled = [row for row in batch if row["title"]]
        if generator is not None:
            return {
                row["key"]: description_prompt(row["title"], by_label[row["domain"]])
                for row in titled
            }
        facts = read_item_facts(db, [row["key"] for row in titled])
        return {row["key"]: fallback_description(row["title"], facts[row["key"]]) for row in titled}

    versions = (DESCRIPTION_PROMPT_VERSION, FALLBACK_DESCRIPTION_VERSION)
    job = _job(
        GenerateTarget.DESCRIPTIONS, domain, "Item", DESCRIPTION_PROPERTY, generator, versions
    )
    return _run(db, generator, job, rows, inputs, batch_size, progress)


def generate_keywords(
    db: Database,
    generator: Generator | None,
    domain: Domain,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> GenerationReport:
    """Preference keywords of every user of `domain` whose training history (or its
    items' facts) changed; see the module doc. Without a generator: the most frequent
    KG facts and latest titles of the training items."""
    train = LeaveOneOut.of(read_sequences(db, domain)).train
    if not train:
        raise KgstoreError(
            f"no user rated a {domain.label} item: ingest interactions first (or check --domain)"
        )
    prefix = keywords_property(domain)
    stored = db.query(
        "UNWIND $users AS id MATCH (u:User {id: id}) RETURN u.id AS key, u[$hash] AS hash",
        users=sorted(train),
        hash=f"{prefix}Hash",
    )
    rows = sorted(stored, key=lambda row: row["key"])

    def inputs(batch: list[dict[str, Any]]) -> dict[str, str]:
        histories = {row["key"]: train[row["key"]] for row in batch}
        facts = read_item_facts(db, {item for items in histories.values() for item in items})
        return {
            user: keywords_prompt([facts[item] for item in items], domain)
            if generator is not None
            else fallback_keywords([facts[item] for item in items])
            for user, items in histories.items()
        }

    versions = (KEYWORDS_PROMPT_VERSION, FALLBACK_KEYWORDS_VERSION)
    job = _job(GenerateTarget.KEYWORDS, domain, "User", prefix, generator, versions)
    report = _run(db, generator, job, rows, inputs, batch_size, progress)
    record_keyword_items(db, domain, train)
    return report


def keyword_items_property(domain: Domain) -> str:
    """The User property listing the training items the domain's keywords came from."""
    return f"{keywords_property(domain)}Items"


def record_keyword_items(db: Database, domain: Domain, train: dict[str, list[str]]) -> None:
    """After a finished run every user's keywords come from its current training items
    (regenerated, or unchanged because the input was the same): record them."""
    rows = [{"id": user, "items": items} for user, items in train.items()]
    for low in range(0, len(rows), 5_000):
        db.query(
            "UNWIND $rows AS row MATCH (u:User {id: row.id}) WHERE u[$text] IS NOT NULL "
            f"SET u.{keyword_items_property(domain)} = row.items",
            rows=rows[low : low + 5_000],
            text=keywords_property(domain),
        )


def keyword_items(db: Database, domain: Domain, users: list[str]) -> dict[str, list[str] | None]:
    """The training items each of `users` that has keywords had them made from (None for
    keywords written before this was recorded)."""
    rows = db.query(
        "UNWIND $users AS id MATCH (u:User {id: id}) WHERE u[$text] IS NOT NULL "
        "RETURN u.id AS id, u[$items] AS items",
        users=users,
        text=keywords_property(domain),
        items=keyword_items_property(domain),
    )
    return {row["id"]: row["items"] for row in rows}


def _job(
    target: GenerateTarget,
    domain: Domain | None,
    label: str,
    prefix: str,
    generator: Generator | None,
    versions: tuple[str, str],
) -> _Job:
    """What a run writes, with the model and version: the generator's and the prompt's
    (`versions[0]`), or the non-LLM label and recipe (`versions[1]`)."""
    if generator is None:
        return _Job(target, domain, label, prefix, FALLBACK_MODEL, versions[1])
    return _Job(target, domain, label, prefix, generator.model_name, versions[0])


def _run(
    db: Database,
    generator: Generator | None,
    job: _Job,
    rows: list[dict[str, Any]],
    inputs_of: Inputs,
    batch_size: int,
    progress: Progress | None,
) -> GenerationReport:
    run_id = uuid.uuid4().hex
    domain = job.domain.value if job.domain is not None else None
    config = {
        "target": job.target.value,
        "domain": domain,
        "model": job.model,
        "promptVersion": job.version,
        "llm": generator is not None,
        "batch": batch_size,
    }
    record_run_start(db, run_id, RunKind.GENERATE, config)
    started = time.perf_counter()
    counts = {"nodes": 0, "generated": 0, "unchanged": 0, "skipped": 0}
    try:
        for low in range(0, len(rows), batch_size):
            batch = rows[low : low + batch_size]
            _generate_batch(db, generator, job, run_id, batch, inputs_of(batch), counts)
            if progress is not None:
                progress(counts["nodes"], len(rows))
    except BaseException as exc:
        record_run_error(db, run_id, exc, counts, str(exc))
        raise
    report = GenerationReport(
        run_id,
        job.target.value,
        domain,
        job.model,
        job.version,
        generator is not None,
        seconds=time.perf_counter() - started,
        **counts,
    )
    record_run_end(db, run_id, "finished", report.as_dict())
    return report


def _generate_batch(
    db: Database,
    generator: Generator | None,
    job: _Job,
    run_id: str,
    batch: list[dict[str, Any]],
    inputs: dict[str, str],
    counts: dict[str, int],
) -> None:
    """Generate the batch's changed texts (the non-LLM input is its own text), then write
    them in one transaction: all of the batch or, on an error, none of it."""
    todo = []
    for row in batch:
        text = inputs.get(row["key"])
        if text is None:
            counts["skipped"] += 1
        elif row["hash"] == (digest := input_hash(job.model, job.version, text)):
            counts["unchanged"] += 1
        else:
            todo.append((row["key"], text, digest))
    if todo:
        texts = [text for _, text, _ in todo]
        outputs = generator.generate(texts) if generator is not None else texts
        updates = [
            {"key": key, "text": output, "hash": digest}
            for (key, _, digest), output in zip(todo, outputs, strict=True)
        ]
        p = job.prefix
        db.query(
            f"UNWIND $rows AS row MATCH (n:{cypher_label(job.label)} {{id: row.key}}) "
            f"SET n.{p} = row.text, n.{p}Model = $model, n.{p}PromptVersion = $version, "
            f"n.{p}Hash = row.hash, n.{p}Run = $run",
            rows=updates,
            model=job.model,
            version=job.version,
            run=run_id,
        )
    counts["nodes"] += len(batch)
    counts["generated"] += len(todo)


def generate_from_settings(
    settings: Settings,
    target: GenerateTarget,
    domain: Domain | None,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> GenerationReport:
    """What the Celery task and `--local` both run: the configured generator (None when
    GENERATOR_URL is empty) and database, then the target's function."""
    generator = generator_from_settings(settings)
    with open_database(settings) as db:
        if target is GenerateTarget.DESCRIPTIONS:
            return generate_descriptions(db, generator, domain, batch_size, progress)
        if domain is None:
            raise KgstoreError("preference keywords are per domain: give --domain")
        return generate_keywords(db, generator, domain, batch_size, progress)
