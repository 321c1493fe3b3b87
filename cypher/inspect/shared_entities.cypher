// Why two items are related: the entities (people, genres, subjects, …) they share.
// Parameters: itemA, itemB (Item.id values).
MATCH (a:Item {id: $itemA})-[ra]->(e:Entity)<-[rb]-(b:Item {id: $itemB})
RETURN e.name AS entity, labels(e) AS labels, type(ra) AS relationA, type(rb) AS relationB
ORDER BY entity;
