"""Benchmark scripts: each prints JSON beside a baseline measured in the same run."""
