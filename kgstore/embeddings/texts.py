"""Which text a node is embedded from: every item and entity gets one, from the best thing
the graph holds, and the choice is named (`TextSource`, stored as `textSource`), so a
table built on the vectors can say what they encode.

Item, in this order:
1. `llmDescription` (`kgctl generate descriptions`): `llm`, or `title+facts` when no
   generator was configured and the non-LLM text was written (model `FALLBACK_MODEL`);
2. its name and description: the title (`title`) or, without one, the readable local
   name of its `uri` (`uri`: `.../The_Prophet_(book)` -> "The Prophet (book)", as DBpedia
   labels it: the disambiguator is kept, it is part of the label and tells a book from a
   film); a title an ingest made from the uri (`titleSource` `TITLE_FROM_URI`) counts as
   `uri`. A description without any name: `description`;
3. its KG facts in the fallback generator's sentences ("Directed by Jane Doe."): `facts`;
4. "unknown movie <id>": `placeholder`. No item is left without a vector.

Entity: its name (`name`), else the readable local name of its uri (`uri`), else
"unknown entity" (`placeholder`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kgstore.generation.facts import ItemFacts
from kgstore.generation.fallback import FALLBACK_MODEL, fallback_description
from kgstore.graph.item_names import TITLE_FROM_URI, readable_name

UNRECORDED_SOURCE = "not recorded"
"""How a vector written before `textSource` was recorded is counted (`kgctl embed`
records it without re-encoding)."""


class TextSource(StrEnum):
    LLM = "llm"
    GENERATED = "title+facts"
    TITLE = "title"
    URI = "uri"
    DESCRIPTION = "description"
    FACTS = "facts"
    PLACEHOLDER = "placeholder"
    NAME = "name"


@dataclass(frozen=True)
class ItemFields:
    """What the graph holds about an item that a text can be made of (None: absent)."""

    id: str
    domain: str | None
    """The item's domain label (`Movie`), for the placeholder."""
    llm: str | None = None
    llm_model: str | None = None
    title: str | None = None
    title_source: str | None = None
    description: str | None = None
    uri: str | None = None


def _clean(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def needs_facts(item: ItemFields) -> bool:
    """True when nothing but the KG facts (or the placeholder) can name the item."""
    return not any(map(_clean, (item.llm, item.title, item.description, item.uri)))


def item_text(item: ItemFields, facts: ItemFacts | None = None) -> tuple[str, TextSource]:
    """The item's text and where it came from (the order of the module doc); `facts` are
    read only for items that `needs_facts`."""
    if llm := _clean(item.llm):
        return llm, TextSource.GENERATED if item.llm_model == FALLBACK_MODEL else TextSource.LLM
    title = _clean(item.title)
    name = title or readable_name(item.uri)
    description = _clean(item.description)
    if name is not None:
        source = TextSource.TITLE
        if title is None or item.title_source == TITLE_FROM_URI:
            source = TextSource.URI
        return ". ".join(filter(None, (name, description))), source
    if description is not None:
        return description, TextSource.DESCRIPTION
    if facts is not None and facts.facts:
        return fallback_description(None, facts), TextSource.FACTS
    kind = (item.domain or "item").lower()
    return f"unknown {kind} {item.id}", TextSource.PLACEHOLDER


def entity_text(name: str | None, uri: str | None) -> tuple[str, TextSource]:
    """An entity's name, else its uri's readable local name, else a placeholder."""
    if clean := _clean(name):
        return clean, TextSource.NAME
    if readable := readable_name(uri):
        return readable, TextSource.URI
    return "unknown entity", TextSource.PLACEHOLDER


def sources_summary(counts: Mapping[str, int]) -> str:
    """Counts per source, largest first: `title 10, uri 3, placeholder 1`."""
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return ", ".join(f"{source} {count:,}" for source, count in ranked) or "none"
