"""Training loops and their config dataclasses: tensors and configs in, a result the caller
writes back (no Neo4j, no settings)."""
