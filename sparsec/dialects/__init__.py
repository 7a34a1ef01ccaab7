"""Dialects: nn (operators), sparse (weight encodings, later), resources (weights)."""
