"""The recommender side: the leave-one-out split shared with persona learning, metrics,
retriever/reranker training and the evaluation grid."""
