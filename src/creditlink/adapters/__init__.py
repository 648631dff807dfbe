"""Implementations of the application's ports: SQL, in-memory, clock, ids."""
