"""The reference interpreter's plumbing: erf, input checking, nn.fused regions, constants
parsed from text, result checking and runtime errors. Op-by-op agreement with PyTorch
is tests/property/test_interpreter_vs_torch.py."""

import math

import numpy as np
import pytest
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    DenseIntOrFPElementsAttr,
    FileLineColLoc,
    IntAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    f32,
    i64,
)
from xdsl.interpreter import Interpreter, impl, register_impls
from xdsl.ir import Block, Region

from sparsec.dialects import nn
from sparsec.interpreters import NNFunctions, NNRuntimeError, interpret, make_interpreter
from sparsec.interpreters import nn as reference
from sparsec.textio import parse_module, print_module

# --- erf ----------------------------------------------------------------------------------


def test_erf_matches_math_erf_to_1e_15():
    rng = np.random.default_rng(0)
    xs = np.concatenate([
        np.linspace(-7, 7, 14001),
        rng.standard_normal(5000) * 3,
        # around the switch from the series to the continued fraction, and tiny values
        np.nextafter(2.0, [0.0, 4.0]), -np.nextafter(2.0, [0.0, 4.0]),
        [0.0, -0.0, 1e-300, -5e-324, 1e-8, 27.0, -40.0, 1e200],
    ])
    expected = np.array([math.erf(x) for x in xs])
    got = reference.erf(xs)
    assert np.max(np.abs(got - expected)) < 1e-15
    tiny = np.abs(xs) < 1e-3  # relative accuracy near zero, where erf(x) ~ 1.128 x
    assert np.allclose(got[tiny], expected[tiny], rtol=1e-15, atol=0)
    assert np.array_equal(np.signbit(got), np.signbit(expected))


def test_erf_special_values():
    got = reference.erf(np.array([np.inf, -np.inf, np.nan]))
    assert got[0] == 1.0 and got[1] == -1.0 and np.isnan(got[2])


def test_erf_keeps_shape_and_accepts_float32():
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    got = reference.erf(x)
    assert got.shape == (3, 4) and got.dtype == np.float64
    assert np.allclose(got, [[math.erf(v) for v in row] for row in x.astype(np.float64)],
                       rtol=0, atol=1e-15)


# --- modules for the tests ----------------------------------------------------------------


def one_op_module(build, *types):
    block = Block(arg_types=types)
    op = build(*block.args)
    block.add_ops([op, func.ReturnOp(op.results[0])])
    main = func.FuncOp("main", (types, [op.results[0].type]), Region(block))
    return ModuleOp([main])


def relu_module(shape=(1, 3, 8, 8)):
    return one_op_module(nn.ReluOp, TensorType(f32, shape))


# --- input checking -----------------------------------------------------------------------


def test_wrong_shape_names_the_argument():
    module = parse_module("""
    func.func @main(%x: tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32> {
      %y = nn.relu %x : (tensor<1x3x8x8xf32>) -> tensor<1x3x8x8xf32>
      func.return %y : tensor<1x3x8x8xf32>
    }""")
    with pytest.raises(ValueError) as e:
        interpret(module, np.zeros((1, 3, 8, 9), np.float32))
    assert str(e.value) == ("argument 0 (%x): expected shape (1, 3, 8, 8) float32, "
                            "got (1, 3, 8, 9) float32")


def test_wrong_dtype_is_rejected_not_cast():
    with pytest.raises(ValueError, match=r"argument 0 \(%0\): expected shape \(1, 3, 8, 8\) "
                                         r"float32, got \(1, 3, 8, 8\) float64"):
        interpret(relu_module(), np.zeros((1, 3, 8, 8)))


def test_wrong_number_of_inputs():
    with pytest.raises(ValueError, match=r"@main\(%0: tensor<1x3x8x8xf32>\) takes 1 "
                                         r"argument\(s\), got 2"):
        interpret(relu_module(), np.zeros((1, 3, 8, 8), np.float32), 1.0)


def test_missing_entry_function():
    with pytest.raises(ValueError, match=r"no func.func @forward \(functions: @main\)"):
        interpret(relu_module(), np.zeros((1, 3, 8, 8), np.float32), entry="forward")


def test_unconvertible_input():
    with pytest.raises(ValueError, match=r"argument 0 \(%0\): cannot make a numpy array"):
        interpret(relu_module((2,)), {"not": "an array"})


def test_python_lists_take_the_declared_dtype():
    (y,) = interpret(relu_module((3,)), [-1, 0.5, 2])
    assert y.dtype == np.float32 and y.tolist() == [0.0, 0.5, 2.0]


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    (y,) = interpret(relu_module((2, 2)), torch.tensor([[-1.0, 2.0], [3.0, -4.0]]))
    assert isinstance(y, np.ndarray) and y.tolist() == [[0.0, 2.0], [3.0, 0.0]]


def test_ops_without_reference_semantics_are_refused_before_running():
    type = TensorType(f32, (2,))
    block = Block(arg_types=[type])
    constant = arith.ConstantOp(DenseIntOrFPElementsAttr.from_list(type, [1.0, 2.0]))
    constant.location = FileLineColLoc(StringAttr("arith.mlir"), IntAttr(3), IntAttr(7))
    block.add_ops([constant, func.ReturnOp(constant.result)])
    module = ModuleOp([func.FuncOp("main", ([type], [type]), Region(block))])
    with pytest.raises(ValueError, match=r"^arith.mlir:3:7: arith.constant has no reference "
                                         r"semantics \(sparsec.interpret runs func and nn "
                                         r"ops\)$"):
        interpret(module, np.zeros(2, np.float32))


def test_entry_and_func_call():
    module = parse_module("""
    func.func @double(%x: tensor<2xf32>) -> tensor<2xf32> {
      %y = nn.add %x, %x : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
      func.return %y : tensor<2xf32>
    }
    func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
      %y = func.call @double(%x) : (tensor<2xf32>) -> tensor<2xf32>
      %z = nn.neg %y : (tensor<2xf32>) -> tensor<2xf32>
      func.return %z : tensor<2xf32>
    }""")
    x = np.array([1.0, -2.0], np.float32)
    assert interpret(module, x)[0].tolist() == [-2.0, 4.0]
    assert interpret(module, x, entry="double")[0].tolist() == [2.0, -4.0]


# --- results ------------------------------------------------------------------------------


def test_results_never_alias_inputs_or_weights():
    module = parse_module("""
    func.func @main(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<2xf32>) {
      %t = nn.transpose %x {permutation = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
      %c = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
      func.return %t, %c : tensor<3x2xf32>, tensor<2xf32>
    }""")
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    t, c = interpret(module, x)
    assert np.array_equal(t, x.T) and not np.shares_memory(t, x)
    c[0] = 5.0  # a private, writeable copy of the constant
    assert interpret(module, x)[1].tolist() == [1.0, 2.0]


def test_ieee_special_values_flow_silently():
    module = one_op_module(nn.DivOp, TensorType(f32, (3,)), TensorType(f32, (3,)))
    with np.errstate(all="raise"):
        (y,) = interpret(module, np.array([1, -1, 0], np.float32), np.zeros(3, np.float32))
    assert y[0] == np.inf and y[1] == -np.inf and np.isnan(y[2])


def test_zero_rank_results_are_arrays():
    module = one_op_module(nn.ExpOp, TensorType(f32, ()))
    (y,) = interpret(module, np.array(0.0, np.float32))
    assert isinstance(y, np.ndarray) and y.shape == () and y == 1.0


def test_a_result_disagreeing_with_its_type_is_caught_where_it_happens():
    @register_impls
    class WrongRelu(NNFunctions):
        @impl(nn.ReluOp)
        def run_relu(self, interpreter: Interpreter, op: nn.ReluOp, args):
            return (np.maximum(args[0], 0).astype(np.float64),)

    module = parse_module("""
    func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
      %y = nn.relu %x : (tensor<2xf32>) -> tensor<2xf32>
      func.return %y : tensor<2xf32>
    }""", "wrong.mlir")
    interpreter = make_interpreter(module)
    interpreter.register_implementations(WrongRelu(), override=True)
    with pytest.raises(NNRuntimeError, match=r"wrong.mlir:3:7: nn.relu: result 0 is declared "
                                             r"shape \(2,\) float32 but the reference "
                                             r"semantics computed shape \(2,\) float64"):
        interpreter.call_op("main", (np.zeros(2, np.float32),))


def test_gather_index_out_of_range_names_the_op():
    module = parse_module("""
    func.func @main(%t: tensor<4x2xf32>, %i: tensor<3xi64>) -> tensor<3x2xf32> {
      %y = nn.gather %t, %i {axis = 0 : i64} : (tensor<4x2xf32>, tensor<3xi64>) -> tensor<3x2xf32>
      func.return %y : tensor<3x2xf32>
    }""", "embed.mlir")
    table = np.zeros((4, 2), np.float32)
    with pytest.raises(NNRuntimeError) as e:
        interpret(module, table, np.array([0, 4, 1]))
    assert str(e.value) == ("embed.mlir:3:7: nn.gather: index 4 is out of range [0, 4) for "
                            "axis 0 of a (4, 2) table")
    assert not getattr(e.value, "__notes__", None)  # no printout of the whole module
    with pytest.raises(NNRuntimeError, match="index -1 is out of range"):
        interpret(module, table, np.array([0, -1, 1]))


def test_integer_division_is_refused():
    module = one_op_module(nn.DivOp, TensorType(i64, (2,)), TensorType(i64, (2,)))
    with pytest.raises(NNRuntimeError, match="nn.div: needs floating-point operands, got int64"):
        interpret(module, np.array([1, 2]), np.array([2, 2]))


# --- regions and constants ----------------------------------------------------------------

FUSED = """
func.func @main(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %s, %r = nn.fused %x, %b attributes {mapping = "one-to-many"} {
  ^bb0(%p: tensor<2x3xf32>, %q: tensor<3xf32>):
    %0 = nn.add %p, %q : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %1 = nn.relu %0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
    nn.yield %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
  } : (tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>)
  %y = nn.mul %r, %s : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %s, %y : tensor<2x3xf32>, tensor<2x3xf32>
}
"""


def test_fused_region_runs_its_body_and_yields_in_order():
    x = np.array([[1, -2, 3], [-4, 5, -6]], np.float32)
    b = np.array([0.5, 1.0, -1.0], np.float32)
    s, y = interpret(parse_module(FUSED), x, b)
    assert np.array_equal(s, x + b)
    assert np.array_equal(y, np.maximum(x + b, 0) * (x + b))


def test_fused_region_runs_twice_in_one_function():
    module = parse_module(FUSED.replace("%y = nn.mul %r, %s", """
  %s2, %r2 = nn.fused %s, %b attributes {mapping = "one-to-many"} {
  ^bb0(%p: tensor<2x3xf32>, %q: tensor<3xf32>):
    %0 = nn.add %p, %q : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %1 = nn.relu %0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
    nn.yield %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
  } : (tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>)
  %y = nn.mul %r2, %s"""))
    x = np.ones((2, 3), np.float32)
    b = np.array([1.0, -3.0, 0.0], np.float32)
    _, y = interpret(module, x, b)
    assert np.array_equal(y, np.maximum(x + 2 * b, 0) * (x + b))


def test_resource_constants_parsed_from_text():
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    block = Block(arg_types=[TensorType(f32, (1, 3, 5, 5))])
    w = nn.ConstantOp.from_array(weight, "conv.weight")
    conv = nn.Conv2dOp(block.args[0], w.result, padding=(1, 1))
    block.add_ops([w, conv, func.ReturnOp(conv.result)])
    main = func.FuncOp("main", ([block.args[0].type], [conv.result.type]), Region(block))
    text = print_module(ModuleOp([main]))
    assert "dense_resource<conv.weight>" in text and "dialect_resources" in text

    x = rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
    (y,) = interpret(parse_module(text, "conv.mlir"), x)
    expected = reference.conv2d(x, weight, None, (1, 1), (1, 1, 1, 1), (1, 1), 1)
    assert np.array_equal(y, expected)


def test_splat_constants():
    module = parse_module("""
    func.func @main(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
      %c = nn.constant dense<0.5> : tensor<2x2xf32>
      %y = nn.mul %x, %c : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
      func.return %y : tensor<2x2xf32>
    }""")
    (y,) = interpret(module, np.full((2, 2), 4.0, np.float32))
    assert y.tolist() == [[2.0, 2.0], [2.0, 2.0]]


# --- pieces of the reference worth pinning down -------------------------------------------


def test_conv2d_row_bands_give_the_same_result(monkeypatch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 9, 7)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 2)).astype(np.float32)
    args = (None, (2, 1), (1, 0, 2, 1), (1, 2), 2)
    whole = reference.conv2d(x, w, *args)
    monkeypatch.setattr(reference, "_IM2COL_LIMIT", 50)  # one output row per band
    assert np.array_equal(reference.conv2d(x, w, *args), whole)


def test_nearest_index_is_pytorch_float32_rule():
    # floor(i * 2 / 82) is 1 from i = 41, but PyTorch computes 41 * float32(2/82) < 1.
    source = reference.nearest_source_index(82, 2)
    assert source[41] == 0 and source[42] == 1
    assert reference.nearest_source_index(8, 4).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert reference.nearest_source_index(2, 5).tolist() == [0, 2]


def test_pool_output_size_drops_a_window_starting_in_the_padding():
    # 5 + 1 + 1 - 2 = 5 -> ceil(5 / 2) + 1 = 4, but window 3 would start at 6 >= 5 + 1.
    assert reference.pool_output_size(5, 2, 2, 1, 1, 1, ceil_mode=True) == 3
    assert reference.pool_output_size(5, 2, 2, 1, 1, 1, ceil_mode=False) == 3
    assert reference.pool_output_size(6, 3, 2, 0, 0, 1, ceil_mode=True) == 3
    assert reference.pool_output_size(6, 3, 2, 0, 0, 1, ceil_mode=False) == 2
