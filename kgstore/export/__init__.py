"""Neo4j → PyTorch Geometric: `reader` reads a domain's persona graph in columns into a
`GraphSnapshot`, `store` caches snapshots in the artifact store by content hash, and
`pyg` turns one into a `HeteroData`."""
