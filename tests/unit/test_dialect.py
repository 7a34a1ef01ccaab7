"""The nn dialect's class-level facts: mapping types (DNNFusion Table 2), algebra, FLOPs,
builders and shape rules."""

import numpy as np
import pytest
from xdsl.dialects.builtin import TensorType, f32, i64
from xdsl.ir import Block
from xdsl.utils.exceptions import VerifyException

from sparsec.dialects import nn
from sparsec.dialects.nn import Algebra, MappingType


def args(*shapes, element=f32):
    return Block(arg_types=[TensorType(element, s) for s in shapes]).args


def shape(op):
    return tuple(op.results[0].type.get_shape())


def test_every_operator_states_its_math_and_mapping_type():
    for op in nn.OPERATORS:
        assert op.__doc__ and op.__doc__.strip(), f"{op.name} has no docstring"
        assert op.name.startswith("nn.")
    stated = {op for op in nn.OPERATORS if op.MAPPING is not None}
    binary = set(nn.BINARY_OPS)
    assert stated | binary == set(nn.OPERATORS)


# Table 2 of DNNFusion, for the operators it lists (papers.md §1.2).
TABLE_2 = {
    MappingType.ONE_TO_ONE: [nn.ReluOp, nn.SigmoidOp, nn.TanhOp, nn.ExpOp, nn.LogOp, nn.SqrtOp,
                             nn.ReciprocalOp, nn.ClampOp, nn.ErfOp, nn.BatchNormOp, nn.ConcatOp,
                             nn.SliceOp],
    MappingType.ONE_TO_MANY: [nn.ExpandOp, nn.GatherOp, nn.UpsampleNearestOp],
    MappingType.MANY_TO_MANY: [nn.Conv2dOp, nn.MatmulOp, nn.LinearOp, nn.MaxPool2dOp,
                               nn.AvgPool2dOp, nn.ReduceMeanOp, nn.ReduceSumOp, nn.SoftmaxOp],
    MappingType.REORGANIZE: [nn.ReshapeOp],
    MappingType.SHUFFLE: [nn.TransposeOp],
}


@pytest.mark.parametrize("mapping", list(TABLE_2))
def test_table_2(mapping):
    for op in TABLE_2[mapping]:
        assert op.MAPPING is mapping, op.name


def test_broadcasting_binary_op_is_one_to_many():
    x, y, row = args((2, 3), (2, 3), (3,))
    assert nn.AddOp(x, y).mapping_type() is MappingType.ONE_TO_ONE
    assert nn.AddOp(x, row).mapping_type() is MappingType.ONE_TO_MANY
    assert nn.MulOp(row, x).mapping_type() is MappingType.ONE_TO_MANY


def test_footnote_1_complexity_order():
    order = sorted(MappingType, key=lambda m: m.complexity)
    assert order == [MappingType.ONE_TO_ONE, MappingType.REORGANIZE, MappingType.SHUFFLE,
                     MappingType.ONE_TO_MANY, MappingType.MANY_TO_MANY]


def test_algebraic_properties():
    both = Algebra.COMMUTATIVE | Algebra.ASSOCIATIVE
    for op in (nn.AddOp, nn.MulOp, nn.MaxOp, nn.MinOp):
        assert op.ALGEBRA == both, op.name
    for op in (nn.SubOp, nn.DivOp, nn.PowOp, nn.MatmulOp):
        assert Algebra.COMMUTATIVE not in op.ALGEBRA, op.name
    assert "nn.add" in nn.MulOp.DISTRIBUTES_OVER
    assert "nn.add" in nn.Conv2dOp.DISTRIBUTES_OVER and "nn.add" in nn.MatmulOp.DISTRIBUTES_OVER
    assert nn.ReluOp.DISTRIBUTES_OVER == ()


def test_conv2d_shape_and_flops():
    x, w, b = args((1, 8, 15, 15), (16, 4, 3, 3), (16,))
    conv = nn.Conv2dOp(x, w, b, stride=(2, 2), padding=(1, 1), dilation=(1, 1), groups=2)
    assert shape(conv) == (1, 16, 8, 8)
    assert conv.flops() == 2 * 16 * 8 * 8 * 4 * 3 * 3 + 16 * 8 * 8
    depthwise = nn.Conv2dOp(args((1, 8, 9, 9))[0], args((8, 1, 3, 3))[0], groups=8,
                            padding=(0, 1, 2, 1), dilation=(2, 1))
    assert shape(depthwise) == (1, 8, 7, 9)


def test_conv2d_rejects_bad_groups():
    x, w = args((1, 6, 8, 8), (4, 4, 3, 3))
    with pytest.raises(VerifyException, match=r"nn.conv2d: input channels 6 .* groups=2"):
        nn.Conv2dOp(x, w, groups=2)


def test_matmul_broadcasts_batches():
    a, b = args((2, 1, 4, 5), (3, 5, 6))
    mm = nn.MatmulOp(a, b)
    assert shape(mm) == (2, 3, 4, 6)
    assert mm.flops() == 2 * 2 * 3 * 4 * 6 * 5
    with pytest.raises(VerifyException, match="nn.matmul: contraction dims differ"):
        nn.MatmulOp(*args((4, 5), (4, 5)))


def test_pooling_shapes_follow_pytorch():
    x = args((1, 3, 7, 7))[0]
    assert shape(nn.MaxPool2dOp(x, (3, 3), (2, 2), ceil_mode=False)) == (1, 3, 3, 3)
    assert shape(nn.MaxPool2dOp(x, (3, 3), (2, 2), ceil_mode=True)) == (1, 3, 3, 3)
    x6 = args((1, 3, 6, 6))[0]
    assert shape(nn.MaxPool2dOp(x6, (3, 3), (2, 2), ceil_mode=True)) == (1, 3, 3, 3)
    assert shape(nn.AvgPool2dOp(x6, (2, 2), (2, 2), padding=(1, 1), ceil_mode=True)) == (1, 3, 4, 4)
    assert shape(nn.AdaptiveAvgPool2dOp(x, (1, 1))) == (1, 3, 1, 1)


def test_reductions_keepdim_and_negative_axes():
    x = args((2, 3, 4))[0]
    assert shape(nn.ReduceMeanOp(x, [-1], keepdim=True)) == (2, 3, 1)
    assert shape(nn.ReduceSumOp(x, [0, 2])) == (3,)
    with pytest.raises(VerifyException, match="nn.reduce_max: axis 3 is out of range"):
        nn.ReduceMaxOp(x, [3])


def test_data_movement_shapes():
    x = args((2, 3, 4))[0]
    assert shape(nn.TransposeOp(x, [2, 0, 1])) == (4, 2, 3)
    assert shape(nn.SliceOp(x, [0, 1, 0], [2, 3, 4], [1, 1, 3])) == (2, 2, 2)
    assert shape(nn.PadOp(x, [0, 1, 2], [1, 0, 0])) == (3, 4, 6)
    assert shape(nn.ConcatOp([x, x], axis=-1)) == (2, 3, 8)
    assert shape(nn.ReshapeOp(x, (6, 4))) == (6, 4)
    table, idx = args((10, 5))[0], args((2, 7), element=i64)[0]
    assert shape(nn.GatherOp(table, idx, axis=0)) == (2, 7, 5)


def test_element_wise_flops_are_one_per_output_element():
    # DNNFusion Table 4's convention: Recip(A) ⊙ Recip(A⊙B) on m x n costs 4mn.
    a, b = args((5, 7), (5, 7))
    ops = [nn.ReciprocalOp(a)]
    ops.append(nn.MulOp(a, b))
    ops.append(nn.ReciprocalOp(ops[1].result))
    ops.append(nn.MulOp(ops[0].result, ops[2].result))
    assert sum(op.flops() for op in ops) == 4 * 5 * 7


def test_constant_from_array():
    small = nn.ConstantOp.from_array(np.arange(3, dtype=np.float32), "k")
    large = nn.ConstantOp.from_array(np.ones((8, 8), np.float32), "big")
    assert np.array_equal(small.array, [0, 1, 2]) and large.array.shape == (8, 8)
    assert small.mapping_type() is None
