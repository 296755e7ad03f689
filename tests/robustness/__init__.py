"""Robustness corpus: realistic perturbations of the shared corpus with known truth."""
