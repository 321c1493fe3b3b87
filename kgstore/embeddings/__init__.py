"""Text embeddings of items and entities: a small `Embedder` interface (`base`), one
module per backend, and `pipeline`, which reads texts from Neo4j, encodes what changed and
writes the vectors back with a vector index."""
