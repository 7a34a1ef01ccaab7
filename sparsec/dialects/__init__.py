"""Dialects: nn (operators), sparse (weight encodings), resources (weights in the IR)."""
