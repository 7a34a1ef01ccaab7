"""Structured sparsity: pruning to GRIM's BCR or PatDNN's patterns (or the CSR / BSR
baselines), detecting the structure of an already-pruned model, and the `sparsify` pass
that packs constant weights into #sparse encodings.

    schemes.py   BCR, Pattern, CSR, BSR: what the user asks for, and how rates round
    bcr.py       BCR masks (rows and columns of each tile by L2 norm)
    pattern.py   pattern-set selection, pattern projection, connectivity pruning
    csr.py       unstructured and whole-tile masks (the baselines)
    prune.py     scheme -> masks and encodings for a model's weights
    detect.py    zeros -> encodings
    sparsify.py  the pass
"""

from .schemes import BCR, BSR, CSR, Pattern, Scheme

__all__ = ["BCR", "BSR", "CSR", "Pattern", "Scheme"]
