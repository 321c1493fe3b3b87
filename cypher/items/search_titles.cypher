// Items whose title matches a search, through the full-text index `item_title` (schema
// file): Lucene query syntax, so `kubrick* space*` finds titles with words starting so.
// kgctl serve's GET /items?q= writes that query from what a person typed (every word a
// prefix, all words required). `domain` keeps one domain's items (the label Movie or
// Book).
// @param query string: a Lucene query over titles
// @param domain string = null: movies or books; every domain when not given
// @param k int = 10: how many items
// @returns item, title, domain, score
CALL db.index.fulltext.queryNodes('item_title', $query) YIELD node, score
WITH node, score,
     CASE WHEN node:Movie THEN 'movies' WHEN node:Book THEN 'books' END AS domain
WHERE $domain IS NULL OR domain = $domain
RETURN node.id AS item, node.title AS title, domain, score
ORDER BY score DESC, item
LIMIT $k;
