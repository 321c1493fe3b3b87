"""The synthetic demo generator: DBpedia films and books, planted user groups, scale data."""
