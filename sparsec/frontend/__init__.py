"""sparsec.frontend."""
