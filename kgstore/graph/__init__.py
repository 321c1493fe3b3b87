"""What every stage shares about the graph: the mapping table of labels and relationship
types, `Run` records, dense `idx` numbering, user sequences (written by ingest, read
by export and training) and their leave-one-out split (`split`)."""
