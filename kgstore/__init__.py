"""kgstore: the stored knowledge graph (Neo4j) and everything that reads or writes it.

Imported before torch by every entry point (`kgctl`, the Celery workers, the tests), so it
sets one environment default the OpenMP runtime reads when torch starts it:
`OMP_WAIT_POLICY=PASSIVE`, threads that wait for work sleep instead of spinning. With the
default, on two cores shared with anything else (Neo4j, a worker, a test run), torch's
small kernels ran up to 30x slower (an HDGI epoch at the Books shape 2.4 s against 0.6 s;
`bench/omp_wait.py`, BENCHMARKS.md issue 22). Set the variable yourself to choose another.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
