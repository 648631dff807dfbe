"""The SQL store: SQLAlchemy Core tables, Alembic migrations, repositories, unit of work.

SQLite (WAL mode) is the embedded default; PostgreSQL runs through psycopg 3.
"""
