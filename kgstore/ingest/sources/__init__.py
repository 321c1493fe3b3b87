"""Source readers: Amazon, Amazon-KG, interaction files, DBpedia (file, SPARQL, client, cache)."""
