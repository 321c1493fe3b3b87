// A user's interactions per domain in sequence order (pos counts within a domain), with
// time (ISO 8601, UTC; empty where the source had none) and rating. Every domain the user
// rated in, or only the one given.
// @param userId string: a User.id
// @param domain string = null: movies or books; every domain when not given
// @returns domain, position, timestamp, rating, item, title
MATCH (u:User {id: $userId})-[r:RATED]->(i:Item)
WITH i, r, CASE WHEN i:Movie THEN 'movies' WHEN i:Book THEN 'books' END AS domain
WHERE $domain IS NULL OR domain = $domain
RETURN domain, r.pos AS position,
       CASE WHEN r.ts IS NOT NULL THEN datetime({epochMillis: toInteger(r.ts * 1000)}) END
         AS timestamp,
       r.rating AS rating, i.id AS item, i.title AS title
ORDER BY domain, position;
