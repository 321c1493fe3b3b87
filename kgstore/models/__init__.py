"""nn.Modules only, in the style of PyG's model files: tensors in, tensors out (no Neo4j, no
settings, nothing else of kgstore imported)."""

from kgstore.models.sasrec import SASRec

__all__ = ["SASRec"]
