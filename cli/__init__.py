"""kgctl, the command line: thin Typer commands over kgstore/ and workers/.

The pattern every command module follows: one command (or one group) per module, added
to its parent by `register(parent)` (assembled in `app.py`); the command parses its
options, opens the configured database with `console.database()`, calls one library
function and prints what it returns. Ingest commands add the shared options with
`ingest_options.ingest_command()` and run through `ingest_options.run_ingest`.
"""
