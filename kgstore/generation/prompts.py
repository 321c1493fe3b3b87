"""The paper's two prompts, in our own words (PAPER.md paraphrases the originals).

- Item description: from the title and the model's general knowledge, a short objective
  description and nothing else, with one worked example per domain.
- User preference keywords: from the titles and features of the user's items in time
  order, the user's preferences as short comma-separated keywords and nothing else.

Each has a version, stored with every text it produced: change the wording, change the
version, and every text made by the old wording is regenerated.
"""

from kgstore.generation.facts import ItemFacts
from kgstore.graph.mapping import Domain

DESCRIPTION_PROMPT_VERSION = "item-description-1"
KEYWORDS_PROMPT_VERSION = "user-keywords-1"

MAX_HISTORY = 50
"""Most recent training items a keywords prompt lists; older ones are left out so that a
long history cannot overflow the model's context."""
NAMES_PER_RELATION = 3
"""Entity names shown per relation of an item's features."""

_KIND = {Domain.MOVIES: "movie or TV title", Domain.BOOKS: "book"}
_EXAMPLES = {
    Domain.MOVIES: (
        "Jaws",
        "Jaws is a 1975 American thriller film directed by Steven Spielberg. When a great "
        "white shark kills swimmers off a resort island, the local police chief, a marine "
        "biologist and a veteran shark hunter set out to sea to kill it.",
    ),
    Domain.BOOKS: (
        "Pride and Prejudice",
        "Pride and Prejudice is a novel by Jane Austen, first published in 1813. Elizabeth "
        "Bennet, the second of five daughters of a country gentleman, meets the rich and "
        "proud Mr Darcy; the story follows how their first judgements of each other change, "
        "with sharp humour about manners, money and marriage.",
    ),
}


def description_prompt(title: str, domain: Domain) -> str:
    """The item-description prompt for one title; `domain` picks the kind of item and
    the worked example."""
    example_title, example = _EXAMPLES[domain]
    return (
        f"Write a short, objective description of the {_KIND[domain]} named below, using its "
        "title and your general knowledge. Answer with the description only, nothing else.\n\n"
        f"Title: {example_title}\nDescription: {example}\n\n"
        f"Title: {title}\nDescription:"
    )


def keywords_prompt(history: list[ItemFacts], domain: Domain) -> str:
    """The preference-keywords prompt over a user's items, oldest first (the caller passes
    training items only); the last `MAX_HISTORY` are listed."""
    lines = [
        f"{number}. {item.title or item.id}"
        + (f" ({'; '.join(phrases)})" if (phrases := item.phrases(NAMES_PER_RELATION)) else "")
        for number, item in enumerate(history[-MAX_HISTORY:], start=1)
    ]
    return (
        f"Below are the {_KIND[domain]}s a user chose, oldest first, each with its title and "
        "features. From them, list the user's preferences as short keywords separated by "
        "commas. Answer with the keywords only, nothing else.\n"
        "Example answer: Crime Drama, Dark Humour, Ensemble Cast, 1970s Cinema\n\n"
        + "\n".join(lines)
        + "\n\nPreferences:"
    )
