// One item and everything one hop away, summarised so a popular item's raters cannot
// crowd out the rest: its facts first (every relationship from the Item to an Entity:
// DBpedia facts, categories, brand), then its item-item links (ALSO_BUY, ALSO_VIEW, …,
// either direction), then ONE row for all its raters.
// Columns: kind ('fact', 'item' or 'raters'), relation (relationship type),
// direction ('out' from the item or 'in' to it), name (the entity's name, else its uri;
// the linked Item.id; null on the raters row), labels (the other node's labels),
// raters and averageRating (the number of users who rated the item and the mean of their
// ratings; only on the raters row, which is there even when nobody rated the item).
// @param itemId string: an Item.id such as an ASIN
// @returns kind, relation, direction, name, labels, raters, averageRating
MATCH (i:Item {id: $itemId})
CALL (i) {
  MATCH (i)-[r]->(e:Entity)
  RETURN 'fact' AS kind, type(r) AS relation, 'out' AS direction,
         coalesce(e.name, e.uri) AS name, labels(e) AS labels,
         null AS raters, null AS averageRating
  UNION ALL
  MATCH (i)-[r]-(j:Item)
  RETURN 'item' AS kind, type(r) AS relation,
         CASE WHEN startNode(r) = i THEN 'out' ELSE 'in' END AS direction,
         j.id AS name, labels(j) AS labels, null AS raters, null AS averageRating
  UNION ALL
  OPTIONAL MATCH (u:User)-[r:RATED]->(i)
  RETURN 'raters' AS kind, 'RATED' AS relation, 'in' AS direction, null AS name,
         ['User'] AS labels, count(DISTINCT u) AS raters, avg(r.rating) AS averageRating
}
RETURN kind, relation, direction, name, labels, raters, averageRating
ORDER BY CASE kind WHEN 'fact' THEN 0 WHEN 'item' THEN 1 ELSE 2 END, relation, name;
