"""The Celery task names, in a module that imports nothing: commands send tasks by name
without loading torch and the training code that `workers.tasks` needs (every `kgctl`
command would otherwise pay a few seconds of imports)."""

EMBED_TASK = "kgstore.embed"
GENERATE_TASK = "kgstore.generate"
TRAIN_HDGI_TASK = "kgstore.train.hdgi"
EVALUATE_GRID_TASK = "kgstore.train.evaluate_grid"
TRAIN_SASREC_TASK = "kgstore.train.sasrec"
