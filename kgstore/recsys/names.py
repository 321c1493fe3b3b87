"""The names of the Table 3 grid's options, importable without torch (the CLI's help texts
and option checks use them)."""

GRID = "table3"
USERS = ("none", "random", "llm", "kg")
"""SASRec's user inputs (`SASRecConfig.user`): none, a learned per-user embedding, or a
given vector per user (embedded keywords, HDGI personas)."""
BASELINE_PERSONAS = ("mean", "untrained", "metapath2vec")
"""Grid rows only: given vectors to judge trained personas against — `mean` and
`untrained` need no training (kgstore.personas.baselines), `metapath2vec` is a structural
graph embedding of the persona run's training graph (kgstore.personas.metapath2vec)."""
RUN_PREFIX = "kg:"
"""`kg:<run id>`: the personas of one persona run, not the domain's latest."""
ITEMS = ("random", "description")


def is_user_source(name: str) -> bool:
    """Whether a grid row may name `name` as its user."""
    return (
        name in USERS
        or name in BASELINE_PERSONAS
        or (name.startswith(RUN_PREFIX) and len(name) > len(RUN_PREFIX))
    )


def sasrec_user(source: str) -> str:
    """The SASRec user input of a row's user source: `kg:<run>` and the baselines are
    given vectors, as `kg` is."""
    return source if source in USERS else "kg"


def is_persona_run_source(source: str) -> bool:
    """`kg` (the domain's latest persona run) or `kg:<run>`: personas of a trained run,
    which the anonymous-session row can infer for a session."""
    return source == "kg" or source.startswith(RUN_PREFIX)
