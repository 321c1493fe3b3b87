"""Backup and restore of the whole store (`kgctl db dump OUT` / `kgctl db load IN`).

A backup is one folder:

    OUT/
      manifest.json   what the folder holds and how to check it (manifest.py)
      neo4j.dump      `neo4j-admin database dump` of the database (schema included)
      artifacts/      the artifact store's files, same layout (when the store is local)
      runs/<run id>/  the runs' output folders (tables, ranks, reports), small

Its own package rather than a module of `services/` or `graph/`, because it needs both:
the offline `neo4j-admin` step of the first, what the graph references (artifact keys,
run folders) of the second, and the artifact store beside them.

Neo4j Community only dumps and loads a database that is not mounted, so both commands
stop Neo4j for the `neo4j-admin` step and start it again (services.neo4j_import).
A local artifact store is copied whole: it is content-addressed, so nothing in it can
be stale, and what a checkpoint refers to inside its own bytes is kept without our having
to know. A remote store (s3://, gcs://, …) is shared and usually bigger than the graph,
so it is only named: the manifest lists its URL and the keys the graph's runs reference.
"""
