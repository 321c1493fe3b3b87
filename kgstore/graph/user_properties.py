"""The names of the per-domain properties a User carries, in one place below every stage.

Generation writes a domain's preference keywords, persona learning a domain's persona
vector, and clearing a domain must find both; keeping the names here lets `graph.clear`
remove them without importing the stages that write them.
"""

from dataclasses import dataclass

from kgstore.graph.mapping import Domain


def keywords_property(domain: Domain) -> str:
    """The User property holding the domain's keywords, e.g. `preferenceKeywordsMovie`."""
    return f"preferenceKeywords{domain.label}"


@dataclass(frozen=True)
class PersonaKeys:
    """The User properties and the vector index holding one domain's personas."""

    vector: str
    run: str
    """The persona run that wrote `vector`."""
    pending: str
    """A run's vector before its switch (`personas.writeback`), and its run."""
    pending_run: str
    index: str


def persona_keys(domain: Domain) -> PersonaKeys:
    vector = f"persona_{domain.value}"
    return PersonaKeys(
        vector, f"{vector}_run", f"{vector}_pending", f"{vector}_pending_run", f"user_{vector}"
    )
