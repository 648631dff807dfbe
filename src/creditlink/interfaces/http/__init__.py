"""The HTTP API: FastAPI routes over the same use cases as the CLI (DESIGN.md, "Layers").

Pydantic models live here only (`schemas.py`); each route reads its caller (`auth.py`),
translates the request into one use-case call, and the answer into a response model. Errors
become RFC 9457 problem details once, in `problems.py`.
"""
