"""The names of the Table 3 grid's options, importable without torch (the CLI's help texts
and option checks use them)."""

GRID = "table3"
USERS = ("none", "random", "llm", "kg")
ITEMS = ("random", "description")
