"""Pure evaluation core below train/: sequence tensors, ranking, metrics, paired statistics."""
