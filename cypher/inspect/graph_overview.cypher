// Schema overview: nodes per label and relationships per type (what `kgctl stats` prints): labels first,
// then relationship types, each largest first. Labels and types with nothing left are skipped.
// The counts come from Neo4j's count store through db.stats.retrieve('GRAPH COUNTS'), so this
// is instant on any graph size (on 5.26 a MATCH on a label held in a variable scans every
// node instead). That procedure needs admin rights, which the `neo4j` user has.
// @returns kind, name, count
CALL db.stats.retrieve('GRAPH COUNTS') YIELD data
UNWIND [row IN data.nodes WHERE row.label IS NOT NULL
          | {kind: 'label', name: row.label, count: row.count}]
     + [row IN data.relationships
          WHERE row.relationshipType IS NOT NULL AND row.startLabel IS NULL
            AND row.endLabel IS NULL
          | {kind: 'relationship type', name: row.relationshipType, count: row.count}] AS row
WITH row WHERE row.count > 0
RETURN row.kind AS kind, row.name AS name, row.count AS count
ORDER BY kind, count DESC, name;
