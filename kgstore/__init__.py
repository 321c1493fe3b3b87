"""kgstore: the stored knowledge graph (Neo4j) and everything that reads or writes it."""

__version__ = "0.1.0"
