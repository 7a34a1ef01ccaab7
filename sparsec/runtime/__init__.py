"""sparsec.runtime."""
