"""kgctl, the command line: thin Typer commands over kgstore/ and workers/."""
