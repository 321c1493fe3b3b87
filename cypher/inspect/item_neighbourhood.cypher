// One item and everything one hop away: its DBpedia facts, categories, brand,
// item-item links and who rated it. Parameter: itemId (an Item.id such as an ASIN).
MATCH (i:Item {id: $itemId})-[r]-(n)
RETURN i, r, n
LIMIT 200;
