// A user's interactions in sequence order (pos), with time and rating.
// Parameter: userId (a User.id).
MATCH (u:User {id: $userId})-[r:RATED]->(i:Item)
RETURN r.pos AS position, r.ts AS timestamp, r.rating AS rating, i.id AS item, i.title AS title
ORDER BY position;
