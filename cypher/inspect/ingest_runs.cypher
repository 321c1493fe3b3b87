// The latest ingests with their status and counts (metrics is JSON).
// @param limit int = 20: how many runs, newest first
// @returns run, source, file, status, started, finished, metrics
MATCH (r:Run {kind: 'ingest'})
RETURN r.id AS run, r.source AS source, r.sourceFile AS file, r.status AS status,
       r.startedAt AS started, r.finishedAt AS finished, r.metrics AS metrics
ORDER BY r.startedAt DESC
LIMIT $limit;
