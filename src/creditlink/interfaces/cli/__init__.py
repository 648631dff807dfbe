"""The `creditlink` command (Typer + Rich). Heavy libraries are imported inside commands."""
