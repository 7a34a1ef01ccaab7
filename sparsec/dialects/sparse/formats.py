"""Packing a dense array into a format's arrays and back: the executable definition of
each layout that `encodings.fields` lists.

    arrays = pack(encoding, w)               # dict field name -> numpy array, fields' order
    w == unpack(encoding, w.shape, arrays)   # exactly, for every w the encoding can hold

`pack` stores exactly the nonzeros of `w` (and, for bcr, bsr and pattern, the zeros that
share a stored tile, block or kernel with a nonzero): nothing is pruned here (that is
sparsec.transforms.sparsity). It produces the canonical layout: index lists ascending,
blocks in row-major grid order, bcr rows in GRIM's reorder, pattern filters in filter
kernel reorder with kernels grouped by pattern. `unpack` checks the arrays first
(`check`) and raises ValueError naming the field for anything `fields` does not allow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .encodings import (
    PATTERN_SIZE,
    BCRAttr,
    BSRAttr,
    CSRAttr,
    PatternAttr,
    SparseEncodingAttr,
    field_shapes,
    fields,
    matrix_view,
)

INDEX = np.int32

Arrays = dict[str, np.ndarray]


def pack(encoding: SparseEncodingAttr, array: np.ndarray) -> Arrays:
    """The arrays storing `array` in `encoding`; ValueError if it cannot (a pattern
    kernel whose nonzeros no pattern of the set covers, a shape the encoding rejects)."""
    array = np.asarray(array)
    _check_shape(encoding, array.shape)
    match encoding:
        case CSRAttr():
            arrays = _pack_csr(array)
        case BSRAttr():
            arrays = _pack_bsr(encoding, array)
        case BCRAttr():
            arrays = _pack_bcr(encoding, array)
        case PatternAttr():
            arrays = _pack_pattern(encoding, array)
        case _:
            raise ValueError(f"not a sparse encoding: {encoding}")
    return {f.name: arrays[f.name] for f in fields(encoding, array.shape)}


def unpack(encoding: SparseEncodingAttr, shape: Sequence[int], arrays: Mapping[str, np.ndarray],
           dtype: np.dtype | None = None) -> np.ndarray:
    """The dense array the arrays store (zeros everywhere else), C-contiguous like any
    constant (so the dense ops that use it compute exactly as on a dense constant)."""
    shape = tuple(shape)
    arrays = check(encoding, shape, arrays)
    if dtype is None:
        [values] = [f.name for f in fields(encoding, shape) if f.kind == "value"]
        dtype = arrays[values].dtype
    match encoding:
        case CSRAttr():
            dense = _unpack_csr(shape, arrays, dtype)
        case BSRAttr():
            dense = _unpack_bsr(encoding, shape, arrays, dtype)
        case BCRAttr():
            dense = _unpack_bcr(encoding, shape, arrays, dtype)
        case PatternAttr():
            dense = _unpack_pattern(encoding, shape, arrays, dtype)
        case _:
            raise ValueError(f"not a sparse encoding: {encoding}")
    return np.ascontiguousarray(dense)


def _check_shape(encoding: SparseEncodingAttr, shape: Sequence[int]) -> None:
    from xdsl.utils.exceptions import VerifyException

    try:
        encoding.verify_shape(shape)
    except VerifyException as e:
        raise ValueError(str(e)) from None


# --- checking arrays against the layout ---------------------------------------------------


class _Checker:
    def __init__(self, encoding: SparseEncodingAttr):
        self.encoding = encoding

    def fail(self, message: str) -> ValueError:
        return ValueError(f"{self.encoding}: {message}")

    def pointers(self, name: str, ptr: np.ndarray, total: int) -> None:
        """ptr[0] = 0, non-decreasing, ptr[-1] = total."""
        if ptr[0] != 0 or ptr[-1] != total or np.any(np.diff(ptr) < 0):
            raise self.fail(f"'{name}' must rise from 0 to {total} without decreasing, "
                            f"got {_preview(ptr)}")

    def within(self, name: str, values: np.ndarray, low: np.ndarray | int,
               high: np.ndarray | int, what: str) -> None:
        bad = (values < low) | (values >= high)
        if np.any(bad):
            i = int(np.argmax(bad))
            lo = low if np.isscalar(low) else low[i]
            hi = high if np.isscalar(high) else high[i]
            raise self.fail(f"{name}[{i}] = {values[i]} is outside {what} {lo}..{hi - 1}")

    def ascending(self, name: str, values: np.ndarray, segment: np.ndarray, what: str) -> None:
        """Strictly ascending inside each segment (so no index is listed twice)."""
        same = segment[1:] == segment[:-1]
        bad = same & (values[1:] <= values[:-1])
        if np.any(bad):
            i = int(np.argmax(bad)) + 1
            raise self.fail(f"'{name}' must be strictly ascending within each {what}: "
                            f"{name}[{i - 1}] = {values[i - 1]}, {name}[{i}] = {values[i]}")

    def permutation(self, name: str, values: np.ndarray, n: int) -> None:
        if not np.array_equal(np.sort(values), np.arange(n)):
            raise self.fail(f"'{name}' must be a permutation of 0..{n - 1}, "
                            f"got {_preview(values)}")


def _preview(values: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(v) for v in values[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def check(encoding: SparseEncodingAttr, shape: Sequence[int],
          arrays: Mapping[str, np.ndarray]) -> Arrays:
    """Check that `arrays` are a valid layout of a `shape` tensor in `encoding` (field
    names, shapes, integer index arrays, pointers, index ranges and order); returns them
    with index arrays as int64 numpy arrays."""
    _check_shape(encoding, shape)
    names = [f.name for f in fields(encoding, shape)]
    if list(arrays) != names:
        raise ValueError(f"{encoding} stores arrays {names}, got {list(arrays)}")
    arrays = {name: np.asarray(a) for name, a in arrays.items()}
    extents: dict[str, int] = {}
    for spec in fields(encoding, shape):
        array = arrays[spec.name]
        if spec.kind == "index":
            if array.dtype.kind not in "iu":
                raise ValueError(f"{encoding}: '{spec.name}' must hold integers, "
                                 f"got {array.dtype}")
            arrays[spec.name] = array.astype(np.int64)
        if array.ndim != len(spec.shape):
            raise ValueError(f"{encoding}: '{spec.name}' must have rank {len(spec.shape)}, "
                             f"got shape {array.shape}")
        for dim, size in zip(spec.shape, array.shape, strict=True):
            if not isinstance(dim, int):
                extents.setdefault(dim.name, size - dim.plus)
                if size < dim.plus:
                    raise ValueError(f"{encoding}: '{spec.name}' needs at least {dim.plus} "
                                     f"entries, got shape {array.shape}")
    expected = field_shapes(encoding, shape, extents)
    for name, array in arrays.items():
        if array.shape != expected[name]:
            raise ValueError(f"{encoding}: '{name}' must have shape {expected[name]}, "
                             f"got {array.shape}")
    c = _Checker(encoding)
    match encoding:
        case CSRAttr():
            _check_csr(c, shape, arrays)
        case BSRAttr():
            _check_bsr(c, shape, arrays)
        case BCRAttr():
            _check_bcr(c, shape, arrays)
        case PatternAttr():
            _check_pattern(c, shape, arrays)
    return arrays


def _segments(ptr: np.ndarray) -> np.ndarray:
    """The segment number of every entry of a pointer-delimited list."""
    return np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))


# --- csr ----------------------------------------------------------------------------------


def _pack_csr(array: np.ndarray) -> Arrays:
    m, k = matrix_view(array.shape)
    matrix = array.reshape(m, k)
    rows, cols = np.nonzero(matrix)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=m))])
    return {"indptr": indptr.astype(INDEX), "indices": cols.astype(INDEX),
            "values": matrix[rows, cols]}


def _check_csr(c: _Checker, shape: Sequence[int], arrays: Arrays) -> None:
    _, k = matrix_view(shape)
    indptr, indices = arrays["indptr"], arrays["indices"]
    c.pointers("indptr", indptr, len(indices))
    c.within("indices", indices, 0, k, "the columns")
    c.ascending("indices", indices, _segments(indptr), "row")


def _unpack_csr(shape: tuple[int, ...], arrays: Arrays, dtype: np.dtype) -> np.ndarray:
    m, k = matrix_view(shape)
    matrix = np.zeros((m, k), dtype)
    matrix[_segments(arrays["indptr"]), arrays["indices"]] = arrays["values"]
    return matrix.reshape(shape)


# --- bsr ----------------------------------------------------------------------------------


def tiles(matrix: np.ndarray, block: tuple[int, int]) -> np.ndarray:
    """The matrix as a (block rows, block columns, bm, bk) grid of tiles (a view)."""
    (m, k), (bm, bk) = matrix.shape, block
    return matrix.reshape(m // bm, bm, k // bk, bk).transpose(0, 2, 1, 3)


def untile(grid: np.ndarray) -> np.ndarray:
    mb, kb, bm, bk = grid.shape
    return grid.transpose(0, 2, 1, 3).reshape(mb * bm, kb * bk)


def _pack_bsr(encoding: BSRAttr, array: np.ndarray) -> Arrays:
    grid = tiles(array.reshape(matrix_view(array.shape)), encoding.block)
    block_rows, block_cols = np.nonzero((grid != 0).any(axis=(2, 3)))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(block_rows, minlength=grid.shape[0]))])
    return {"indptr": indptr.astype(INDEX), "indices": block_cols.astype(INDEX),
            "blocks": grid[block_rows, block_cols]}


def _check_bsr(c: _Checker, shape: Sequence[int], arrays: Arrays) -> None:
    (_, k), (_, bk) = matrix_view(shape), c.encoding.block
    indptr, indices = arrays["indptr"], arrays["indices"]
    c.pointers("indptr", indptr, len(indices))
    c.within("indices", indices, 0, k // bk, "the block columns")
    c.ascending("indices", indices, _segments(indptr), "block row")


def _unpack_bsr(encoding: BSRAttr, shape: tuple[int, ...], arrays: Arrays,
                dtype: np.dtype) -> np.ndarray:
    (m, k), (bm, bk) = matrix_view(shape), encoding.block
    grid = np.zeros((m // bm, k // bk, bm, bk), dtype)
    grid[_segments(arrays["indptr"]), arrays["indices"]] = arrays["blocks"]
    return untile(grid).reshape(shape)


# --- bcr ----------------------------------------------------------------------------------


def bcr_reorder(kept: np.ndarray) -> np.ndarray:
    """GRIM's matrix reorder: the rows of a (rows x columns) mask of kept weights, grouped
    by identical kept-column sets; groups with more kept weights first, then in order of
    their first row; rows ascending within a group."""
    rows = kept.shape[0]
    signatures = np.packbits(kept, axis=1)
    _, first, group = np.unique(signatures, axis=0, return_index=True, return_inverse=True)
    group = group.reshape(-1)
    return np.lexsort((np.arange(rows), first[group], -kept.sum(axis=1))).astype(INDEX)


def _pack_bcr(encoding: BCRAttr, array: np.ndarray) -> Arrays:
    bm, bk = encoding.block
    matrix = array.reshape(matrix_view(array.shape))
    grid = tiles(matrix, (bm, bk))
    nonzero = grid != 0
    row_kept = nonzero.any(axis=3)  # (block rows, block columns, bm)
    col_kept = nonzero.any(axis=2)  # (block rows, block columns, bk)
    kept = row_kept[..., :, None] & col_kept[..., None, :]
    block_row, _, row = np.nonzero(row_kept)
    _, block_col, col = np.nonzero(col_kept)
    nrows = row_kept.sum(axis=2).reshape(-1)
    ncols = col_kept.sum(axis=2).reshape(-1)
    return {
        "reorder": bcr_reorder(untile(kept)),
        "row_ptr": _pointers(nrows),
        "rows": (block_row * bm + row).astype(INDEX),
        "col_ptr": _pointers(ncols),
        "cols": (block_col * bk + col).astype(INDEX),
        "val_ptr": _pointers(nrows * ncols),
        "values": grid[kept],
    }


def _pointers(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)]).astype(INDEX)


def _check_bcr(c: _Checker, shape: Sequence[int], arrays: Arrays) -> None:
    (m, k), (bm, bk) = matrix_view(shape), c.encoding.block
    bcols = k // bk  # tiles per block row
    c.permutation("reorder", arrays["reorder"], m)
    _check_tile_indices(c, arrays, "row_ptr", "rows", bm, tile_position=lambda b: b // bcols)
    _check_tile_indices(c, arrays, "col_ptr", "cols", bk, tile_position=lambda b: b % bcols)
    sizes = np.diff(arrays["row_ptr"]) * np.diff(arrays["col_ptr"])
    if not np.array_equal(np.diff(arrays["val_ptr"]), sizes):
        raise c.fail("'val_ptr' must step by (kept rows) x (kept columns) of each tile, got "
                     f"{_preview(arrays['val_ptr'])} for tile sizes {_preview(sizes)}")
    c.pointers("val_ptr", arrays["val_ptr"], len(arrays["values"]))


def _check_tile_indices(c: _Checker, arrays: Arrays, ptr: str, idx: str, size: int,
                        tile_position) -> None:
    """Each tile's kept rows (or columns): inside the tile, ascending."""
    c.pointers(ptr, arrays[ptr], len(arrays[idx]))
    tile = _segments(arrays[ptr])
    low = tile_position(tile) * size
    c.within(idx, arrays[idx], low, low + size, "its tile's range")
    c.ascending(idx, arrays[idx], tile, "tile")


def _unpack_bcr(encoding: BCRAttr, shape: tuple[int, ...], arrays: Arrays,
                dtype: np.dtype) -> np.ndarray:
    (m, k), (bm, bk) = matrix_view(shape), encoding.block
    grid_shape = (m // bm, k // bk)
    nblocks = grid_shape[0] * grid_shape[1]
    row_kept = np.zeros((nblocks, bm), bool)
    row_kept[_segments(arrays["row_ptr"]), arrays["rows"] % bm] = True
    col_kept = np.zeros((nblocks, bk), bool)
    col_kept[_segments(arrays["col_ptr"]), arrays["cols"] % bk] = True
    kept = (row_kept[:, :, None] & col_kept[:, None, :]).reshape(*grid_shape, bm, bk)
    grid = np.zeros((*grid_shape, bm, bk), dtype)
    grid[kept] = arrays["values"]
    return untile(grid).reshape(shape)


# --- pattern (FKW) ------------------------------------------------------------------------


def pattern_masks(encoding: PatternAttr) -> np.ndarray:
    """(patterns, 9) booleans: the positions each pattern keeps."""
    masks = np.zeros((len(encoding.patterns), 9), bool)
    for index, pattern in enumerate(encoding.patterns):
        masks[index, list(pattern)] = True
    return masks


def covering_pattern(encoding: PatternAttr, kernels: np.ndarray) -> np.ndarray:
    """For (..., 9) kernels: the first pattern of the set whose positions cover every
    nonzero, or -1 when none does (an all-zero kernel gets pattern 0)."""
    outside = (kernels != 0)[..., None, :] & ~pattern_masks(encoding)
    covers = ~outside.any(axis=-1)
    return np.where(covers.any(axis=-1), covers.argmax(axis=-1), -1)


def _pack_pattern(encoding: PatternAttr, array: np.ndarray) -> Arrays:
    cout, cin = array.shape[:2]
    kernels = array.reshape(cout, cin, 9)
    stored = (kernels != 0).any(axis=2)
    pattern = covering_pattern(encoding, kernels)
    if np.any(stored & (pattern < 0)):
        o, i = np.argwhere(stored & (pattern < 0))[0]
        where = np.nonzero(kernels[o, i])[0].tolist()
        raise ValueError(f"{encoding}: kernel [{o}, {i}] has nonzeros at positions {where}, "
                         "which no pattern of the set covers")
    reorder = np.argsort(-stored.sum(axis=1), kind="stable")
    slot_of = np.empty(cout, np.int64)
    slot_of[reorder] = np.arange(cout)
    filt, chan = np.nonzero(stored)
    pid = pattern[filt, chan]
    order = np.lexsort((chan, pid, slot_of[filt]))
    filt, chan, pid = filt[order], chan[order], pid[order]
    slot = slot_of[filt]
    run_start = np.ones(len(slot), bool)
    run_start[1:] = (slot[1:] != slot[:-1]) | (pid[1:] != pid[:-1])
    starts = np.nonzero(run_start)[0]
    positions = np.array(encoding.patterns)
    return {
        "reorder": reorder.astype(INDEX),
        "offsets": _pointers(np.bincount(slot[starts], minlength=cout)),
        "strides": np.append(starts, len(slot)).astype(INDEX),
        "pattern_ids": pid[starts].astype(INDEX),
        "channels": chan.astype(INDEX),
        "weights": kernels[filt[:, None], chan[:, None], positions[pid]].reshape(-1,
                                                                               PATTERN_SIZE),
    }


def _pattern_kernels(arrays: Arrays) -> tuple[np.ndarray, np.ndarray]:
    """(filter, pattern id) of every stored kernel."""
    run = _segments(arrays["strides"])
    slot = _segments(arrays["offsets"])[run]
    return arrays["reorder"][slot], arrays["pattern_ids"][run]


def _check_pattern(c: _Checker, shape: Sequence[int], arrays: Arrays) -> None:
    cout, cin = shape[:2]
    c.permutation("reorder", arrays["reorder"], cout)
    c.pointers("offsets", arrays["offsets"], len(arrays["pattern_ids"]))
    c.pointers("strides", arrays["strides"], len(arrays["channels"]))
    c.within("pattern_ids", arrays["pattern_ids"], 0, len(c.encoding.patterns),
             "the pattern set's ids")
    c.within("channels", arrays["channels"], 0, cin, "the input channels")
    filt, _ = _pattern_kernels(arrays)
    kernel = filt * cin + arrays["channels"]
    if len(np.unique(kernel)) != len(kernel):
        _, first, counts = np.unique(kernel, return_index=True, return_counts=True)
        twice = kernel[first[np.argmax(counts > 1)]]
        raise c.fail(f"kernel [{twice // cin}, {twice % cin}] is stored more than once")


def _unpack_pattern(encoding: PatternAttr, shape: tuple[int, ...], arrays: Arrays,
                    dtype: np.dtype) -> np.ndarray:
    cout, cin = shape[:2]
    filt, pid = _pattern_kernels(arrays)
    kernels = np.zeros((cout, cin, 9), dtype)
    positions = np.array(encoding.patterns)
    kernels[filt[:, None], arrays["channels"][:, None], positions[pid]] = arrays["weights"]
    return kernels.reshape(shape)
