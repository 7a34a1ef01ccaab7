"""Weights: blob encoding, ArrayResourceAttr, and text round trips through textio."""

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, f32, i64
from xdsl.ir import Block, Region

from sparsec.dialects import nn
from sparsec.dialects.resources import (
    ArrayResourceAttr,
    array_of,
    decode_blob,
    dense_elements_of,
    encode_blob,
)
from sparsec.textio import SparsecError, parse_module, print_module


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.float16])
def test_blob_round_trip(dtype):
    array = (np.arange(24) - 7).astype(dtype).reshape(2, 3, 4)
    blob = encode_blob(array)
    # MLIR's layout: 4-byte little-endian alignment, then the raw little-endian data.
    assert blob[:10] == "0x" + int(np.dtype(dtype).alignment).to_bytes(4, "little").hex().upper()
    back = decode_blob(blob, TensorType(ArrayResourceAttr.from_array("k", array).type
                                        .get_element_type(), array.shape))
    assert back.dtype == array.dtype and np.array_equal(back, array)


def test_decode_checks_byte_count():
    blob = encode_blob(np.zeros(5, np.float32))
    with pytest.raises(ValueError, match="holds 20 bytes .* needs 24"):
        decode_blob(blob, TensorType(f32, [6]))


def test_array_resource_attr_is_read_only_and_identity_compared():
    a = np.ones((3, 4), np.float32)
    attr = ArrayResourceAttr.from_array("w", a)
    assert attr.type == TensorType(f32, [3, 4])
    assert not attr.array.flags.writeable
    assert attr != ArrayResourceAttr.from_array("w", a.copy())  # identity, not content
    assert attr == attr


def test_dense_elements_of_small_arrays():
    attr = dense_elements_of(np.array([[1, 2], [3, 4]], np.int64))
    assert attr.get_type() == TensorType(i64, [2, 2])
    assert np.array_equal(array_of(attr), [[1, 2], [3, 4]])


def _module_with_weight(array: np.ndarray, key: str) -> ModuleOp:
    block = Block(arg_types=[TensorType(f32, [array.shape[0]])])
    weight = nn.ConstantOp.from_array(array, key)
    total = nn.AddOp(block.args[0], weight.result)
    block.add_ops([weight, total, func.ReturnOp(total.result)])
    main = func.FuncOp("main", ([block.args[0].type], [total.result.type]), Region(block))
    return ModuleOp([main])


def test_print_parse_print_is_byte_identical():
    module = _module_with_weight(np.linspace(-1, 1, 40, dtype=np.float32), "layer.weight")
    text = print_module(module)
    assert "dense_resource<layer.weight>" in text and "dialect_resources" in text
    assert print_module(parse_module(text)) == text
    generic = print_module(module, generic=True)
    assert print_module(parse_module(generic), generic=True) == generic
    assert print_module(parse_module(generic)) == text


def test_two_modules_with_the_same_key_keep_their_own_weights():
    # xDSL keeps parsed blobs in one process-wide storage; textio must not let a second
    # module see (or overwrite) the first one's data.
    a = np.full(20, 1.0, np.float32)
    b = np.full(20, 2.0, np.float32)
    ma = parse_module(print_module(_module_with_weight(a, "w")))
    mb = parse_module(print_module(_module_with_weight(b, "w")))
    constants = [op for m in (ma, mb) for op in m.walk() if isinstance(op, nn.ConstantOp)]
    assert np.array_equal(constants[0].array, a)
    assert np.array_equal(constants[1].array, b)


def test_small_constants_print_inline():
    text = print_module(_module_with_weight(np.arange(4, dtype=np.float32), "tiny"))
    assert "dense<" in text and "dialect_resources" not in text


def test_missing_blob_is_a_located_error():
    text = print_module(_module_with_weight(np.zeros(40, np.float32), "w"))
    text = text[: text.index("{-#")]
    with pytest.raises(SparsecError, match=r"f\.mlir:\d+:\d+: error: dense_resource<w> has no"):
        parse_module(text, "f.mlir")


def test_wrong_blob_size_is_a_located_error():
    text = print_module(_module_with_weight(np.zeros(40, np.float32), "w"))
    text = text.replace("tensor<40xf32>", "tensor<41xf32>")
    with pytest.raises(SparsecError, match=r"f\.mlir:\d+:\d+: error: w: resource blob holds"):
        parse_module(text, "f.mlir")


def test_distinct_weights_with_one_key_refuse_to_print():
    module = _module_with_weight(np.zeros(40, np.float32), "w")
    other = _module_with_weight(np.ones(40, np.float32), "w")
    main = module.body.block.first_op
    other_const = next(op for op in other.walk() if isinstance(op, nn.ConstantOp))
    other_const.detach()
    main.body.block.insert_op_before(other_const, main.body.block.first_op)
    with pytest.raises(ValueError, match="share the resource key 'w'"):
        print_module(module)


def test_resource_keys_must_print_back():
    with pytest.raises(ValueError, match="'0.weight' is not an MLIR bare identifier"):
        ArrayResourceAttr.from_array("0.weight", np.zeros(3, np.float32))
    assert ArrayResourceAttr.from_array("_0.weight", np.zeros(3, np.float32))
