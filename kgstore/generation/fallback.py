"""The documented non-LLM texts, written when no generator is configured (GENERATOR_URL
empty) and labelled by the model name `FALLBACK_MODEL`, so every consumer can tell them
from an LLM's.

- Item: the title, then one sentence per KG relation: "Jaws. Directed by Steven
  Spielberg. Starring Richard Dreyfuss, Robert Shaw, Roy Scheider. Genre is Thriller."
  (at most `NAMES_PER_RELATION` names each, in the mapping table's order).
- User: the entity names that occur in most of the user's training items (ties by name),
  then the titles of the most recent training items, comma-separated like the LLM's
  keywords: "Steven Spielberg, Thriller, Jaws, Duel".
"""

from collections import Counter

from kgstore.generation.facts import ItemFacts
from kgstore.generation.prompts import NAMES_PER_RELATION

FALLBACK_MODEL = "none (title + KG facts)"
FALLBACK_DESCRIPTION_VERSION = "title-kg-facts-1"
FALLBACK_KEYWORDS_VERSION = "kg-facts-titles-1"
FACT_KEYWORDS = 10
TITLE_KEYWORDS = 5


def fallback_description(title: str | None, item: ItemFacts) -> str:
    """The title and the item's facts as sentences; only the facts when `title` is None
    (what `kgctl embed items` encodes for an item that has nothing else)."""
    phrases = item.phrases(NAMES_PER_RELATION)
    named = [title] if title else []
    sentences = [*named, *(phrase[0].upper() + phrase[1:] for phrase in phrases)]
    return " ".join(sentence.rstrip(".") + "." for sentence in sentences)


def fallback_keywords(history: list[ItemFacts]) -> str:
    """Up to `FACT_KEYWORDS` of the most frequent facts of `history` (the training items),
    then up to `TITLE_KEYWORDS` of its latest titles."""
    counts = Counter(name for item in history for name in set(item.names))
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    facts = [name for name, _ in ranked[:FACT_KEYWORDS]]
    titles = [item.title for item in reversed(history) if item.title]
    return ", ".join(dict.fromkeys([*facts, *list(dict.fromkeys(titles))[:TITLE_KEYWORDS]]))
