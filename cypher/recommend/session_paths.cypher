// Why an item was recommended for a session: for each item of the session, the best 3 of
// its shortest knowledge-graph paths (at most 4 relationships) to the recommended item
// through entities and item-item links, best first. Interactions (RATED) are left out, so
// a path is a reason in the KG, not "someone else bought both".
// How paths are ranked (the most specific shared entities first), over the whole session:
// 1. fewer hops; 2. the same relationship type at both ends (Film -[DIRECTED_BY]-> Kubrick
// <-[DIRECTED_BY]- Film before -[DIRECTED_BY]-> Kubrick <-[PRODUCED_BY]-); 3. rarer nodes
// between: a lower `degree`, the KG relationships (RATED not counted) of the nodes between
// the two items summed, so a director of a dozen films beats a distributor of hundreds;
// 4. the shared node's main role: more of its relationships of the types at the path's
// ends (Kubrick directed 11 demo films and produced 6: "directed" first); 5. the path.
// Each session item's shortest paths are ranked among the first 1000 found (a hub entity
// can make many thousands of 4-hop paths, all of them weak).
// Each path is written out: an item by its title, an entity by its name, arrows in the
// stored direction. No row for a session item with no path within 4 relationships.
// `nodes` and `rels` give the same path as a small graph (kgctl serve's page draws it):
// nodes as {key, kind: Item or Entity, name}, relationships as {source, target, type}
// between node keys, in the stored direction.
// @param items list<string>: the session's Item.id values (comma-separated for kgctl)
// @param target string: the recommended Item.id
// @returns sessionItem, hops, path, via, degree, nodes, rels
MATCH (t:Item {id: $target})
UNWIND $items AS sessionItem
MATCH (s:Item {id: sessionItem})
WHERE s <> t
CALL (s, t) {
  MATCH p = ALL SHORTEST (s)-[rs WHERE type(rs) <> 'RATED']-{1,4}(t)
  WITH p LIMIT 1000
  WITH p, nodes(p) AS ns, relationships(p) AS rs
  WITH p, ns, rs, ns[1] AS first, ns[-2] AS last
  WITH p, ns, rs, type(rs[0]) = type(rs[-1]) AS sameRelation,
       reduce(total = 0, n IN [m IN ns[1..-1] |
         COUNT { (m)--() } - COUNT { (m)-[:RATED]-() }] | total + n) AS degree,
       COUNT { (first)-[r]-() WHERE type(r) = type(rs[0]) }
       + COUNT { (last)-[r]-() WHERE type(r) = type(rs[-1]) } AS role
  RETURN length(p) AS hops, sameRelation, degree, role,
         reduce(text = coalesce(ns[0].title, ns[0].id), k IN range(0, size(rs) - 1) |
           text
           + CASE WHEN startNode(rs[k]) = ns[k] THEN ' -[' + type(rs[k]) + ']-> '
                  ELSE ' <-[' + type(rs[k]) + ']- ' END
           + coalesce(ns[k + 1].title, ns[k + 1].name, ns[k + 1].id, ns[k + 1].uri)) AS path,
         [n IN ns[1..-1] | coalesce(n.name, n.title, n.id, n.uri)] AS via,
         [n IN ns | {key: elementId(n), kind: CASE WHEN n:Item THEN 'Item' ELSE 'Entity' END,
                     name: coalesce(n.title, n.name, n.id, n.uri)}] AS nodes,
         [r IN rs | {source: elementId(startNode(r)), target: elementId(endNode(r)),
                     type: type(r)}] AS rels
  ORDER BY sameRelation DESC, degree, role DESC, path
  LIMIT 3
}
RETURN sessionItem, hops, path, via, degree, nodes, rels
ORDER BY hops, sameRelation DESC, degree, role DESC, path;
