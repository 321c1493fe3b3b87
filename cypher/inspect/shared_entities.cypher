// Why two items are related: the entities (people, genres, subjects, …) both link to,
// one row per entity, ordered by its name.
// Columns: entity (its name, else its uri), labels, relationsA and relationsB (the sorted
// relationship types from itemA and from itemB to that entity).
// @param itemA string: an Item.id
// @param itemB string: another Item.id
// @returns entity, labels, relationsA, relationsB
MATCH (a:Item {id: $itemA})-->(e:Entity)<--(b:Item {id: $itemB})
WITH DISTINCT a, b, e
RETURN coalesce(e.name, e.uri) AS entity, labels(e) AS labels,
       COLLECT { MATCH (a)-[r]->(e) RETURN DISTINCT type(r) AS t ORDER BY t } AS relationsA,
       COLLECT { MATCH (b)-[r]->(e) RETURN DISTINCT type(r) AS t ORDER BY t } AS relationsB
ORDER BY entity;
