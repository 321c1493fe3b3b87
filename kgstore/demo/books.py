"""The books of the demo: real DBpedia books (data/demo/books.nt.gz) as `Book` items.

Persona themes are a book's author, literary genre, series, and — where the data has
them — its subject and genre (the paper's Books node types; the bundled file holds
`literaryGenre` but no `dct:subject` or `dbo:genre`, the scale generator makes both).
"""

from kgstore.demo.catalogue import CatalogueSpec, display_name
from kgstore.graph.mapping import Domain
from kgstore.paths import PROJECT_ROOT

DEMO_BOOKS = PROJECT_ROOT / "data" / "demo" / "books.nt.gz"

BOOKS = CatalogueSpec(
    domain=Domain.BOOKS,
    path=DEMO_BOOKS,
    id_prefix="book",
    user_prefix="demo-reader",
    # `Cane_River_(novel)` -> `Cane River`: DBpedia's qualifier names the kind, not a year.
    title=display_name,
    description_parts=(
        ("AUTHORED_BY", "By"),
        ("HAS_LITERARY_GENRE", "Literary genre:"),
        ("HAS_GENRE", "Genre:"),
        ("HAS_SUBJECT", "About"),
        ("IN_SERIES", "Part of"),
        ("PUBLISHED_BY", "Published by"),
    ),
    persona_relations=(
        "AUTHORED_BY",
        "HAS_LITERARY_GENRE",
        "HAS_GENRE",
        "HAS_SUBJECT",
        "IN_SERIES",
    ),
)
