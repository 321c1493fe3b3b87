// Which run wrote which vectors: embedding runs (textEmbedding of items and entities) and
// HDGI runs (User.persona_<domain> of the run's domain), newest first, with how many nodes
// still hold that run's vectors and the run's metrics (JSON). A run whose vectors were all
// replaced by a later run shows zeros. Counting scans the labels once per run: seconds on
// millions of nodes.
// @param limit int = 20: how many runs
// @returns run, kind, model, status, started, items, entities, personas, metrics
MATCH (r:Run)
WHERE r.kind = 'embed' OR (r.kind = 'train' AND r.model = 'hdgi')
WITH r ORDER BY r.startedAt DESC LIMIT $limit
RETURN r.id AS run, r.kind AS kind, r.model AS model, r.status AS status,
       r.startedAt AS started,
       COUNT { MATCH (n:Item) WHERE n.textEmbeddingRun = r.id } AS items,
       COUNT { MATCH (n:Entity) WHERE n.textEmbeddingRun = r.id } AS entities,
       COUNT { MATCH (n:User) WHERE n['persona_' + coalesce(r.domain, '') + '_run'] = r.id }
         AS personas,
       r.metrics AS metrics
ORDER BY started DESC;
