"""User personas: an HDGI run over the stored graph (`runner`), written back to the users
(`writeback`), looked up by similarity, and inferred for anonymous sessions (`infer`)."""
