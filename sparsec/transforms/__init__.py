"""IR-to-IR passes on the nn dialect (registered by name in sparsec.universe)."""
