"""The `cypher/` query library: parameterised, commented files a user pastes into Neo4j
Browser or runs with `kgctl query NAME`."""
