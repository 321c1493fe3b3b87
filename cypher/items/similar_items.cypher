// The items nearest to an item by text embedding (cosine, through the vector index
// `item_text_embedding` that `kgctl embed items` builds).
// @param itemId string: an Item.id with a textEmbedding
// @param k int = 10: how many items
// @returns item, title, score, labels
MATCH (i:Item {id: $itemId})
WHERE i.textEmbedding IS NOT NULL
CALL db.index.vector.queryNodes('item_text_embedding', $k + 1, i.textEmbedding)
  YIELD node, score
WITH i, node, score
WHERE node <> i
RETURN node.id AS item, node.title AS title, score, labels(node) AS labels
ORDER BY score DESC
LIMIT $k;
