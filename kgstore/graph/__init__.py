"""What every stage shares about the graph: the mapping table of labels and relationship
types, `Run` records, dense `idx` numbering, and user sequences (written by ingest, read
by export and training)."""
