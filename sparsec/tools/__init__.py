"""Command-line tools: `sparsec` (cli.py) and `sparsec-opt` (sparsec_opt.py)."""
