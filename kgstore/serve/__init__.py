"""`kgctl serve`: recommendations for anonymous sessions over HTTP, and the session page.

The model of each domain loads once (kgstore.serve.models) and a newer finished retriever
replaces it without a restart; requests and their errors are shaped in kgstore.serve.app.
"""
