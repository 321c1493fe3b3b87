"""What the prompts and the non-LLM texts say about an item: its title and its KG facts
(the names of the entities it links to, by relation), read from Neo4j."""

from collections.abc import Collection
from dataclasses import dataclass

from kgstore.db import Database
from kgstore.graph.mapping import BY_TYPE, RELATIONS

RELATION_ORDER = {relation.rel_type: place for place, relation in enumerate(RELATIONS)}


@dataclass(frozen=True)
class ItemFacts:
    """An item's title (None when it has none) and its facts: (relation text such as
    "directed by", entity names sorted) in the order of the mapping table."""

    id: str
    title: str | None
    facts: tuple[tuple[str, tuple[str, ...]], ...]

    def phrases(self, names_per_relation: int) -> list[str]:
        """ "directed by Steven Spielberg", "starring Robert Shaw, Roy Scheider", …, with
        at most `names_per_relation` names each, so one crowded relation (hundreds of
        subjects) cannot drown the others."""
        return [f"{text} {', '.join(names[:names_per_relation])}" for text, names in self.facts]

    @property
    def names(self) -> list[str]:
        """Every entity name of every fact."""
        return [name for _, names in self.facts for name in names]


def read_item_facts(db: Database, ids: Collection[str]) -> dict[str, ItemFacts]:
    """The title and facts of each item of `ids` that exists. Facts are the item's links
    to `Entity` nodes (not to other items: also-bought products are behaviour, not
    features); an entity without a name is named by its uri. One record of collected
    [id, title, facts] triples: the driver spends more on a record than on its values
    (one record per item made this two thirds of `generate keywords`)."""
    items = db.columns(
        "UNWIND $ids AS id MATCH (i:Item {id: id}) "
        "OPTIONAL MATCH (i)-[r]->(e:Entity) "
        "WITH i, type(r) AS rel, collect(DISTINCT coalesce(e.name, e.uri)) AS names "
        "WITH i, collect([rel, names]) AS facts "
        "RETURN collect([i.id, i.title, facts]) AS items",
        ids=list(ids),
    )["items"]
    found = {}
    for item, title, item_facts in items:
        facts = sorted(
            ((rel, names) for rel, names in item_facts if rel is not None and rel in BY_TYPE),
            key=lambda fact: RELATION_ORDER[fact[0]],
        )
        found[item] = ItemFacts(
            item,
            title.strip() if title and title.strip() else None,
            tuple((BY_TYPE[rel].text, tuple(sorted(names))) for rel, names in facts),
        )
    return found
