"""`kgctl report RUN`: one self-contained HTML page about an evaluation run or a persona
run, read from the graph (the `Run` nodes, the stored personas, Table 1 counts).

gather (runs and counts) -> persona_map (sample, colours, t-SNE) -> figures (PNG data
URIs) -> sections (HTML of each part) -> page (the document) -> build (the whole report).
"""
