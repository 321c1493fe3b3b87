// The users nearest to a user by HDGI persona (cosine, through the vector index
// `user_persona` that `kgctl train hdgi` builds), among users of the same persona domain,
// with how many items each shares with the given user. On demo data `plantedGroup` says
// which taste group the generator gave each user: near users should mostly share it.
// @param userId string: a User.id with a persona
// @param k int = 10: how many users
// @returns user, score, plantedGroup, sharedItems, items
MATCH (u:User {id: $userId})
WHERE u.persona IS NOT NULL
CALL db.index.vector.queryNodes('user_persona', $k + 1, u.persona) YIELD node, score
WITH u, node, score
WHERE node <> u AND node.personaDomain = u.personaDomain
RETURN node.id AS user, score, node.plantedGroup AS plantedGroup,
       COUNT { (u)-[:RATED]->(:Item)<-[:RATED]-(node) } AS sharedItems,
       COUNT { (node)-[:RATED]->(:Item) } AS items
ORDER BY score DESC
LIMIT $k;
