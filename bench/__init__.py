"""Benchmark of the extraction engine and service: `python -m bench [--quick] [--corpus DIR] [--json OUT]`.

Not a timed test: it measures and prints a markdown table, marking each target met or not.
"""
