"""Scenario files (SCENARIOS.md): load and check a file, run it on a fresh book through the
real use cases and the real close of day, report the result JSON, check expectations."""
