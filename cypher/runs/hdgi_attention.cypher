// The semantic-attention weight HDGI learned for each meta-path (they sum to 1 per run):
// how much each kind of neighbourhood (co-rating UIU, shared entities UIEIU:<family>,
// also-bought UIIU:also) shapes the personas. The given run, or the latest finished one.
// @param run string = null: an HDGI run id; the latest finished HDGI run when not given
// @returns run, domain, metapath, weight
MATCH (r:Run {kind: 'train', model: 'hdgi', status: 'finished'})
WHERE ($run IS NULL OR r.id = $run) AND r.metapaths IS NOT NULL
WITH r ORDER BY r.startedAt DESC LIMIT 1
UNWIND range(0, size(r.metapaths) - 1) AS k
RETURN r.id AS run, r.domain AS domain, r.metapaths[k] AS metapath,
       r.semanticWeights[k] AS weight
ORDER BY weight DESC, metapath;
