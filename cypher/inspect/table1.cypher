// The paper's Table 1 per domain: users who rated the domain's items, its items, their
// interactions (RATED), the entities its items link to and its items' triples (every
// relationship from one of its items: facts and item-item links). The same numbers as
// `kgctl stats`; entities shared by two domains count in both.
// @returns domain, users, items, interactions, entities, triples
UNWIND [['movies', 'Movie'], ['books', 'Book']] AS domain
CALL (domain) {
  MATCH (i:Item) WHERE domain[1] IN labels(i)
  RETURN count(i) AS items,
         sum(COUNT { (i)-[]->() }) AS triples,
         sum(COUNT { (i)<-[:RATED]-() }) AS interactions
}
CALL (domain) {
  MATCH (u:User)-[:RATED]->(i:Item) WHERE domain[1] IN labels(i)
  RETURN count(DISTINCT u) AS users
}
CALL (domain) {
  MATCH (i:Item)-->(e:Entity) WHERE domain[1] IN labels(i)
  RETURN count(DISTINCT e) AS entities
}
WITH domain[0] AS domain, users, items, interactions, entities, triples
WHERE items > 0
RETURN domain, users, items, interactions, entities, triples
ORDER BY domain;
