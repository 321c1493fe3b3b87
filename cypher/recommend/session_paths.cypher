// Why an item was recommended for a session: for each item of the session, the shortest
// knowledge-graph paths (up to 3, of at most 4 relationships) to the recommended
// item through entities and item-item links. Interactions (RATED) are left out, so a path
// is a reason in the KG, not "someone else bought both".
// Each path is written out: an item by its title, an entity by its name, arrows in the
// stored direction. No row for a session item with no path within 4 relationships.
// @param items list<string>: the session's Item.id values (comma-separated for kgctl)
// @param target string: the recommended Item.id
// @returns sessionItem, hops, path, via
MATCH (t:Item {id: $target})
UNWIND $items AS sessionItem
MATCH (s:Item {id: sessionItem})
WHERE s <> t
MATCH p = SHORTEST 3 (s)-[rs WHERE type(rs) <> 'RATED']-{1,4}(t)
WITH sessionItem, p, nodes(p) AS ns, relationships(p) AS rs
RETURN sessionItem, length(p) AS hops,
       reduce(text = coalesce(ns[0].title, ns[0].id), k IN range(0, size(rs) - 1) |
         text
         + CASE WHEN startNode(rs[k]) = ns[k] THEN ' -[' + type(rs[k]) + ']-> '
                ELSE ' <-[' + type(rs[k]) + ']- ' END
         + coalesce(ns[k + 1].title, ns[k + 1].name, ns[k + 1].id, ns[k + 1].uri)) AS path,
       [n IN ns[1..-1] | coalesce(n.name, n.title, n.id, n.uri)] AS via
ORDER BY sessionItem, hops, path;
