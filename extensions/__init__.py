"""Jinja extensions of the copier-poetry-docker template (loaded by copier-template-extensions)."""
