"""The shared risk core: scoring, features, rules, cross-product linkage, pricing (no I/O)."""
