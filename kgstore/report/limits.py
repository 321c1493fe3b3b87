"""The persona map's sample size and seed, importable without numpy or sklearn (the CLI
shows the default in its help)."""

MAP_CAP = 3_000
"""Users drawn for the map at most: t-SNE of 3,000 takes about 15 s on one free core
(40 s on a busy one); of 5,000, about twice that."""
MAP_SEED = 0
