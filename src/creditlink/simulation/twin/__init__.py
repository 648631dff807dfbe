"""The digital twin: a seeded synthetic population driven day by day through the real use
cases and the real close of day, under each policy (../shared/docs/TWIN.md)."""
