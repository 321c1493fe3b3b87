// The users nearest to a user by HDGI persona (cosine), per domain: a user who rates in
// several domains has one persona per domain (User.persona_movies, persona_books), each
// compared only with that domain's personas through its vector index
// (user_persona_movies, ...) that `kgctl train hdgi` builds. `personaRun` is the run that
// wrote the domain's personas. On demo data `plantedGroup` says which taste group the
// generator gave each user: near users should mostly share it.
// @param userId string: a User.id with a persona
// @param domain string = null: movies or books; every domain the user has a persona of if not given
// @param k int = 10: how many users per domain
// @returns user, score, plantedGroup, sharedItems, items, domain, personaRun
MATCH (u:User {id: $userId})
UNWIND [key IN keys(u) WHERE key =~ 'persona_[a-z]+'] AS key
WITH u, key, substring(key, size('persona_')) AS domain
WHERE $domain IS NULL OR domain = $domain
CALL db.index.vector.queryNodes('user_persona_' + domain, $k + 1, u[key]) YIELD node, score
WITH u, key, domain, node, score WHERE node <> u
WITH u, key, domain, node, score ORDER BY score DESC
WITH u, key, domain, collect(node)[..$k] AS nodes, collect(score)[..$k] AS scores
UNWIND range(0, size(nodes) - 1) AS rank
WITH u, key, domain, nodes[rank] AS node, scores[rank] AS score
RETURN node.id AS user, score, node.plantedGroup AS plantedGroup,
       COUNT { (u)-[:RATED]->(:Item)<-[:RATED]-(node) } AS sharedItems,
       COUNT { (node)-[:RATED]->(:Item) } AS items, domain, u[key + '_run'] AS personaRun
ORDER BY domain, score DESC;
