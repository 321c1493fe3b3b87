"""Recommender orchestration above train/, personas/, generation/: inputs, grid, table, serving."""
