"""Ingest: turn Amazon, Amazon-KG, generic interaction and DBpedia sources into the graph.

One module per source reads records and writes them through the `writer.Writer`
interface (`graph_writer.GraphWriter` online, `bulk_writer.BulkWriter` for the bulk
path), with labels and relationship types taken from `kgstore.graph.mapping` alone.
"""
