"""The nn dialect: DNN operators at ONNX granularity on value-semantics tensors.

Every op class states its DNNFusion mapping type, algebraic properties, FLOP count and
shape rule (see `base.NNOperation`); the numpy reference semantics live in
`sparsec.interpreters.nn`.
"""

from xdsl.ir import Dialect

from .base import Algebra, MappingType, NNOperation
from .constant import ConstantOp
from .data_movement import (
    ConcatOp,
    ExpandOp,
    GatherOp,
    PadOp,
    ReshapeOp,
    SliceOp,
    TransposeOp,
    UpsampleNearestOp,
)
from .elementwise import (
    BINARY_OPS,
    UNARY_OPS,
    AbsOp,
    AddOp,
    ClampOp,
    DivOp,
    ErfOp,
    ExpOp,
    GeluOp,
    HardsigmoidOp,
    HardswishOp,
    LogOp,
    MaxOp,
    MinOp,
    MulOp,
    NegOp,
    PowOp,
    ReciprocalOp,
    ReluOp,
    RsqrtOp,
    SigmoidOp,
    SiluOp,
    SqrtOp,
    SubOp,
    TanhOp,
)
from .fused import FusedOp, YieldOp
from .linear_algebra import Conv2dOp, LinearOp, MatmulOp
from .normalization import BatchNormOp, LayerNormOp, SoftmaxOp
from .pooling import (
    AdaptiveAvgPool2dOp,
    AvgPool2dOp,
    MaxPool2dOp,
    ReduceMaxOp,
    ReduceMeanOp,
    ReduceSumOp,
)

OPERATORS = (
    *UNARY_OPS,
    *BINARY_OPS,
    Conv2dOp,
    MatmulOp,
    LinearOp,
    BatchNormOp,
    LayerNormOp,
    SoftmaxOp,
    MaxPool2dOp,
    AvgPool2dOp,
    AdaptiveAvgPool2dOp,
    ReduceSumOp,
    ReduceMeanOp,
    ReduceMaxOp,
    ReshapeOp,
    ExpandOp,
    TransposeOp,
    ConcatOp,
    SliceOp,
    PadOp,
    GatherOp,
    UpsampleNearestOp,
)
"""Every nn operator with a mapping type (everything but constant, fused and yield)."""

NN = Dialect("nn", [*OPERATORS, ConstantOp, FusedOp, YieldOp], [])

__all__ = [
    "NN", "OPERATORS", "Algebra", "MappingType", "NNOperation", "ConstantOp", "FusedOp",
    "YieldOp", "Conv2dOp", "MatmulOp", "LinearOp", "BatchNormOp", "LayerNormOp", "SoftmaxOp",
    "MaxPool2dOp", "AvgPool2dOp", "AdaptiveAvgPool2dOp", "ReduceSumOp", "ReduceMeanOp",
    "ReduceMaxOp", "ReshapeOp", "ExpandOp", "TransposeOp", "ConcatOp", "SliceOp", "PadOp",
    "GatherOp", "UpsampleNearestOp", "ReluOp", "ClampOp", "SigmoidOp", "TanhOp", "GeluOp",
    "SiluOp", "HardswishOp", "HardsigmoidOp", "ExpOp", "LogOp", "SqrtOp", "RsqrtOp",
    "ReciprocalOp", "NegOp", "AbsOp", "ErfOp", "AddOp", "SubOp", "MulOp", "DivOp", "MaxOp",
    "MinOp", "PowOp", "UNARY_OPS", "BINARY_OPS",
]
