"""Benchmarks and the synthetic-city generator (not tests; see bench/generate.py and bench/run.py)."""
