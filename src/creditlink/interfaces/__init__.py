"""The edges people and systems use: the command line, HTTP and web pages."""
