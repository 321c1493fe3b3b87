// kgstore graph schema (labels and types: kgstore/graph/mapping.py; README "Package map"). Applied by `kgctl schema apply`.
// Every statement is idempotent: applying the file again changes nothing.

// Keys: one node per user, item (ASIN / dataset id), DBpedia or metadata entity, run.
CREATE CONSTRAINT user_id IF NOT EXISTS FOR (u:User) REQUIRE u.id IS UNIQUE;
CREATE CONSTRAINT item_id IF NOT EXISTS FOR (i:Item) REQUIRE i.id IS UNIQUE;
CREATE CONSTRAINT entity_uri IF NOT EXISTS FOR (e:Entity) REQUIRE e.uri IS UNIQUE;
CREATE CONSTRAINT run_id IF NOT EXISTS FOR (r:Run) REQUIRE r.id IS UNIQUE;

// Dense per-label integer ids, used when exporting tensors to PyTorch Geometric.
CREATE INDEX user_idx IF NOT EXISTS FOR (u:User) ON (u.idx);
CREATE INDEX item_idx IF NOT EXISTS FOR (i:Item) ON (i.idx);
CREATE INDEX entity_idx IF NOT EXISTS FOR (e:Entity) ON (e.idx);

// Lookups people make in Browser and that ingest makes when linking items to DBpedia.
CREATE INDEX item_uri IF NOT EXISTS FOR (i:Item) ON (i.uri);
CREATE INDEX entity_name IF NOT EXISTS FOR (e:Entity) ON (e.name);
CREATE INDEX run_kind IF NOT EXISTS FOR (r:Run) ON (r.kind);

// Title search (kgctl serve's GET /items?q=, cypher/items/search_titles.cypher): words
// and word prefixes in any order, ranked by Lucene's relevance.
CREATE FULLTEXT INDEX item_title IF NOT EXISTS FOR (i:Item) ON EACH [i.title];

// What an ingest changed on existing nodes and relationships, kept for `kgctl runs undo`.
CREATE INDEX ingest_undo_run IF NOT EXISTS FOR (u:IngestUndo) ON (u.run);

// Vector indexes take their dimension from the vectors, so they are made by the commands that
// write them, not here: item_text_embedding / entity_text_embedding (`kgctl embed`) and one
// persona index per domain, user_persona_movies / user_persona_books on User.persona_<domain>
// (`kgctl train hdgi --domain`, kgstore/personas/writeback.py).
