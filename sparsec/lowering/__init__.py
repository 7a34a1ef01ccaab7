"""sparsec.lowering."""
