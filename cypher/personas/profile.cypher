// A user's persona profile: the entities (genres, people, subjects, authors, ...) that
// several of the user's items share, most shared first, with the relationship that
// links them. This is what the UIEIU meta-paths of HDGI see of the user. `personaRuns`
// says, per domain the user has a persona of, which run wrote it ('movies <run id>').
// @param userId string: a User.id
// @param minItems int = 2: an entity must link at least this many of the user's items
// @param limit int = 25: how many entities
// @returns relation, entity, labels, items, share, personaRuns
MATCH (u:User {id: $userId})
WITH u, COUNT { (u)-[:RATED]->(:Item) } AS rated,
     [key IN keys(u) WHERE key =~ 'persona_[a-z]+_run' |
      substring(key, size('persona_'), size(key) - size('persona__run')) + ' ' + u[key]]
     AS personaRuns
MATCH (u)-[:RATED]->(i:Item)-[r]->(e:Entity)
WITH rated, personaRuns, type(r) AS relation, e, count(DISTINCT i) AS items
WHERE items >= $minItems
RETURN relation, coalesce(e.name, e.uri) AS entity, labels(e) AS labels, items,
       round(toFloat(items) / rated, 3) AS share, personaRuns
ORDER BY items DESC, relation, entity
LIMIT $limit;
