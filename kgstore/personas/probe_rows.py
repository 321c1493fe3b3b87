"""The rows of a persona probe as text, from the figures a Run keeps (`ProbeResult.as_dict`):
one table for the CLI and the report. Plain Python, so the report imports no torch."""

from typing import Any

PROBE_HEADERS = ("predicts", "users", "top-10 hit", "no persona", "chance")


def probe_rows(probe: dict[str, Any]) -> list[list[str]]:
    """The next item, then each relation family's entities."""
    targets = {"next item": probe["next_item"]}
    targets.update({f"entities: {family}": rate for family, rate in probe["entities"].items()})
    return [
        [
            name,
            f"{rate['users']:,}",
            f"{rate['persona']:.4f}",
            f"{rate['no_persona']:.4f}",
            f"{rate['chance']:.4f}",
        ]
        for name, rate in targets.items()
    ]


def spread_line(probe: dict[str, Any]) -> str:
    """How spread the personas are, in words."""
    return (
        f"mean pairwise cosine {probe['anisotropy']:.3f} (1: all one direction), effective "
        f"rank {probe['effective_rank']:.1f} of {probe['dimension']}"
    )
