"""Ingest: turn Amazon, Amazon-KG, generic interaction and DBpedia sources into the graph.

One module per source reads records; `writer.GraphWriter` is the only code that writes
them, with labels and relationship types taken from `mapping` alone.
"""
