"""`sparsify`: prune constant weights to a sparsity scheme (or find the structure an
already-pruned model has) and pack them into their sparse encoding.

    sparsec opt --pass 'sparsify{scheme=bcr block=8x4 rate=0.8}' model.mlir
    sparsec opt --pass 'sparsify{scheme=pattern patterns=8 connectivity=3.6}' model.mlir
    sparsec opt --pass sparsify model.mlir        # scheme=detect: structure from the zeros

Options:
  scheme        detect (default) | bcr | pattern | csr | bsr
  block         tile size ROWSxCOLUMNS for bcr and bsr (default 8x4), and for the layers
                patterns do not fit (each side moved to a divisor of the layer's
                GEMM view, `prune.fallback_block`); with detect, the only BCR tile tried
  rate          fraction of weights pruned. Without it bcr, csr and bsr prune nothing:
                they pack the zeros the weights already have (weights with fewer than
                25% zeros stay dense). pattern: the rate of the BCR layers (default: the
                pattern layers' compression)
  patterns      pattern-set size (default 8)
  connectivity  kernel compression of connectivity pruning (default 3.6)

Which weights: constants that feed only the weight operand of nn.conv2d / nn.linear, or
the right operand of nn.matmul as a 2-D matrix, directly or as an input of nn.fused groups
(whose block arguments then take the encoded type). A weight whose shape the format does not
fit (a BCR block that does not divide its GEMM view; patterns need 3x3 kernels) stays
dense. Each packed weight becomes its format's arrays (`nn.constant`s, resource keys
`<weight key>.<field>`) and a `sparse.assemble` of them, which the op uses unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import DenseResourceAttr, ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import Rewriter

from sparsec.dialects.nn import ConstantOp, Conv2dOp, FusedOp, LinearOp, MatmulOp
from sparsec.dialects.resources import ArrayResourceAttr
from sparsec.dialects.sparse import AssembleOp, BCRAttr, BSRAttr, CSRAttr, SparseEncodingAttr
from sparsec.dialects.sparse.formats import pack
from sparsec.textio import unique_key

from .detect import detect, is_sparse
from .prune import fits, prune_weights
from .schemes import BCR, BSR, CSR, Pattern, Scheme, parse_block

SCHEMES = ("detect", "bcr", "pattern", "csr", "bsr")


@dataclass(frozen=True)
class PackedWeight:
    """The plan for one weight: its constant, its encoding, the arrays storing it."""

    constant: ConstantOp
    encoding: SparseEncodingAttr
    arrays: dict[str, np.ndarray]


@dataclass(frozen=True)
class SparsifyPass(ModulePass):
    """Prune constant weights to a sparsity scheme, or detect their structure, and pack
    them into #sparse encodings."""

    name = "sparsify"

    scheme: str = "detect"
    block: str | None = None
    rate: float | int | None = None
    patterns: int = 8
    connectivity: float | int = 3.6

    def __post_init__(self):
        if self.scheme not in SCHEMES:
            raise ValueError(f"sparsify: unknown scheme {self.scheme!r}; "
                             f"choose one of {', '.join(SCHEMES)}")
        if self.block is not None:
            parse_block(self.block)
        if self.scheme == "detect" and self.rate is not None:
            raise ValueError("sparsify: scheme=detect prunes nothing, so it takes no rate")
        self.to_scheme()  # validates the rest

    @staticmethod
    def from_scheme(scheme: Scheme) -> SparsifyPass:
        """The pass that prunes to `scheme` (a sparsec.BCR, sparsec.Pattern, CSR or BSR)."""
        match scheme:
            case BCR(block=(bm, bk), rate=rate):
                return SparsifyPass("bcr", f"{bm}x{bk}", rate)
            case BSR(block=(bm, bk), rate=rate):
                return SparsifyPass("bsr", f"{bm}x{bk}", rate)
            case CSR(rate=rate):
                return SparsifyPass("csr", None, rate)
            case Pattern(block=(bm, bk)):
                return SparsifyPass("pattern", f"{bm}x{bk}", scheme.rate, scheme.patterns,
                                    scheme.connectivity)
        raise TypeError(f"not a sparsity scheme: {scheme!r}")

    def spec(self) -> str:
        """This pass as pass-spec text (`sparsify{scheme=bcr block=8x4 rate=0.8}`)."""
        options = [f"scheme={self.scheme}"]
        if self.block is not None:
            options.append(f"block={self.block}")
        if self.rate is not None:
            options.append(f"rate={float(self.rate)!r}")
        if self.scheme == "pattern":
            options += [f"patterns={self.patterns}",
                        f"connectivity={float(self.connectivity)!r}"]
        return f"sparsify{{{' '.join(options)}}}"

    def to_scheme(self) -> Scheme | None:
        """The pruning scheme of these options (None: nothing is pruned)."""
        block = parse_block(self.block) if self.block else (8, 4)
        if self.scheme == "pattern":
            rate = None if self.rate is None else float(self.rate)
            return Pattern(self.patterns, float(self.connectivity), block, rate)
        if self.rate is None or self.scheme == "detect":
            return None
        if self.scheme == "bcr":
            return BCR(block, float(self.rate))
        if self.scheme == "bsr":
            return BSR(block, float(self.rate))
        return CSR(float(self.rate))

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        packing = plan(op, self)
        keys = resource_keys(op)
        for packed in packing:
            replace_weight(packed, keys)


def weight_constants(module: ModuleOp) -> dict[str, ConstantOp]:
    """The constants used only as weights, by name (resource key, else `weight<i>`)."""
    found: dict[str, ConstantOp] = {}
    for op in module.walk():
        if not isinstance(op, ConstantOp) or not _only_weight_uses(op):
            continue
        if np.dtype(op.array.dtype).kind != "f":
            continue
        name = _resource_key(op) or f"weight{len(found)}"
        found[unique_key(set(found), name)] = op
    return found


def _only_weight_uses(constant: ConstantOp) -> bool:
    return _used_only_as_weight(constant.result)


def _used_only_as_weight(value: SSAValue) -> bool:
    uses = list(value.uses)
    return bool(uses) and all(_is_weight_use(use.operation, use.index) for use in uses)


def _is_weight_use(user: Operation, index: int) -> bool:
    if isinstance(user, Conv2dOp | LinearOp):
        return index == 1
    if isinstance(user, MatmulOp):
        return index == 1 and len(user.rhs.type.get_shape()) == 2
    if isinstance(user, FusedOp):  # `fuse` passes weights in as the group's inputs
        return _used_only_as_weight(user.body.block.args[index])
    return False


def _retype_fused_inputs(value: SSAValue) -> None:
    """Give the block arguments of the nn.fused ops `value` feeds its (encoded) type."""
    for use in list(value.uses):
        if isinstance(use.operation, FusedOp):
            argument = use.operation.body.block.args[use.index]
            _retype_fused_inputs(Rewriter.replace_value_with_new_type(argument, value.type))


def _resource_key(constant: ConstantOp) -> str | None:
    if isinstance(constant.value, ArrayResourceAttr | DenseResourceAttr):
        return constant.value.resource_handle.data
    return None


def plan(module: ModuleOp, options: SparsifyPass) -> list[PackedWeight]:
    """Which weights to pack, in which encoding, with which arrays (no IR is changed)."""
    constants = weight_constants(module)
    weights = {name: c.array for name, c in constants.items()}
    scheme = options.to_scheme()
    if options.scheme == "detect":
        block = parse_block(options.block) if options.block else None
        encodings = detect(weights, block)
        return [PackedWeight(constants[n], e, pack(e, weights[n])) for n, e in encodings.items()]
    if scheme is None:  # pack the zeros the weights have, in the requested format
        encoding = _format(options)
        return [PackedWeight(constants[n], encoding, pack(encoding, w))
                for n, w in weights.items() if is_sparse(w) and fits(encoding, w.shape)]
    pruned = prune_weights(weights, scheme)
    return [PackedWeight(constants[n], p.encoding,
                         pack(p.encoding, np.where(p.mask, weights[n], 0).astype(weights[n].dtype)))
            for n, p in pruned.items()]


def _format(options: SparsifyPass) -> SparseEncodingAttr:
    block = parse_block(options.block) if options.block else (8, 4)
    if options.scheme == "bcr":
        return BCRAttr(block)
    if options.scheme == "bsr":
        return BSRAttr(block)
    return CSRAttr()


def resource_keys(module: ModuleOp) -> set[str]:
    return {attr.resource_handle.data for op in module.walk()
            for attr in op.properties.values()
            if isinstance(attr, ArrayResourceAttr | DenseResourceAttr)}


def replace_weight(packed: PackedWeight, keys: set[str]) -> None:
    """Replace the dense constant by its arrays and a sparse.assemble of them; `keys` are
    the resource keys in use (updated)."""
    constant = packed.constant
    dense = constant.result.type
    assert isinstance(dense, TensorType)
    base = _resource_key(constant) or constant.result.name_hint or "weight"
    arrays = []
    for name, array in packed.arrays.items():
        key = unique_key(keys, f"{base}.{name}")
        keys.add(key)
        array_op = ConstantOp.from_array(array, key)
        array_op.result.name_hint = name
        arrays.append(array_op)
    result_type = TensorType(dense.get_element_type(), dense.get_shape(), packed.encoding)
    assemble = AssembleOp([a.result for a in arrays], result_type)
    assemble.result.name_hint = constant.result.name_hint
    Rewriter.replace_op(constant, [*arrays, assemble], [assemble.result])
    _retype_fused_inputs(assemble.result)
