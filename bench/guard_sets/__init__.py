"""Authored evaluation sets for the content guards (see README.md here)."""
