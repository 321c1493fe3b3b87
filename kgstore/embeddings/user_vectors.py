"""The retriever's `llm` user representation: each user's stored preference keywords of
a domain (`kgctl generate keywords`), embedded with an `Embedder`.

The vectors are returned, not stored: they are cheap to make from the cached keywords, and
the recommender decides which embedder it pairs with which item vectors. `label` says
what made the keywords, so a result computed from the non-LLM text says so.
"""

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from kgstore.db import Database
from kgstore.embeddings.base import Embedder
from kgstore.errors import KgstoreError
from kgstore.generation.fallback import FALLBACK_MODEL
from kgstore.graph.mapping import Domain
from kgstore.graph.user_properties import keywords_property


@dataclass(frozen=True)
class UserKeywordVectors:
    """User id -> keyword vector, and where the keywords and vectors came from."""

    vectors: dict[str, np.ndarray]
    embedder_model: str
    generator_models: tuple[str, ...]
    prompt_versions: tuple[str, ...]

    @property
    def llm(self) -> bool:
        """True when an LLM wrote every user's keywords (no non-LLM text among them)."""
        return FALLBACK_MODEL not in self.generator_models

    @property
    def label(self) -> str:
        made_by = ", ".join(
            "the non-LLM text (title + KG facts)" if model == FALLBACK_MODEL else model
            for model in self.generator_models
        )
        return (
            f"preference keywords by {made_by} ({', '.join(self.prompt_versions)}), "
            f"embedded with {self.embedder_model}"
        )


def user_keyword_vectors(
    db: Database, embedder: Embedder, domain: Domain, users: Collection[str] | None = None
) -> UserKeywordVectors:
    """The embedded keywords of every user of `domain` that has them (of `users` only, when
    given). Raises KgstoreError when none has: generate them first."""
    prop = keywords_property(domain)
    rows = db.query(
        "MATCH (u:User) WHERE u[$text] IS NOT NULL AND ($users IS NULL OR u.id IN $users) "
        "RETURN u.id AS id, u[$text] AS text, u[$model] AS model, u[$version] AS version "
        "ORDER BY id",
        users=list(users) if users is not None else None,
        text=prop,
        model=f"{prop}Model",
        version=f"{prop}PromptVersion",
    )
    if not rows:
        raise KgstoreError(
            f"no user has {domain.value} preference keywords: run "
            f"`kgctl generate keywords --domain {domain.value}` first"
        )
    matrix = embedder.embed([row["text"] for row in rows])
    return UserKeywordVectors(
        {row["id"]: vector for row, vector in zip(rows, matrix, strict=True)},
        embedder.model_name,
        tuple(sorted({row["model"] for row in rows})),
        tuple(sorted({row["version"] for row in rows})),
    )
