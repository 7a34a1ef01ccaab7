"""sparsec.compile and the compiled callable: input checks (a wrong input raises naming
the argument, before native code runs), torch/numpy in and out, calls from several
threads, the on-disk cache, the arena plan, outputs that alias inputs or each other,
fused regions, and the per-kernel report."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, f32, i64
from xdsl.ir import Block, Region

import sparsec
from sparsec.dialects import nn
from sparsec.interpreters import interpret
from sparsec.runtime.abi import InputError
from sparsec.textio import parse_module


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSEC_CACHE_DIR", str(tmp_path / "jit"))
    monkeypatch.setenv("SPARSEC_VERIFY", "1")


def block_module(types, build) -> ModuleOp:
    block = Block(arg_types=types)
    ops, results = build(*block.args)
    block.add_ops(ops)
    block.add_op(func.ReturnOp(*results))
    return ModuleOp([func.FuncOp("main", (types, [r.type for r in results]), Region(block))])


def mlp() -> ModuleOp:
    """x[4, 16] -> linear(16 -> 24) -> relu -> linear(24 -> 8) -> softmax."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((24, 16)).astype(np.float32)
    w2 = rng.standard_normal((8, 24)).astype(np.float32)

    def build(x):
        c1, c2 = nn.ConstantOp.from_array(w1, "w1"), nn.ConstantOp.from_array(w2, "w2")
        l1 = nn.LinearOp(x, c1.result)
        r = nn.ReluOp(l1.result)
        l2 = nn.LinearOp(r.result, c2.result)
        s = nn.SoftmaxOp(l2.result, -1)
        return [c1, c2, l1, r, l2, s], [s.result]
    return block_module([TensorType(f32, (4, 16))], build)


@pytest.fixture(scope="module")
def compiled_mlp():
    module = mlp()
    return module, sparsec.compile(module)


def example(seed=0):
    return np.random.default_rng(seed).standard_normal((4, 16)).astype(np.float32)


def test_numpy_in_numpy_out(compiled_mlp):
    module, fn = compiled_mlp
    x = example()
    y = fn(x)
    assert isinstance(y, np.ndarray) and y.shape == (4, 8) and y.dtype == np.float32
    np.testing.assert_allclose(y, interpret(module, x)[0], rtol=1e-5, atol=1e-6)


def test_torch_in_torch_out(compiled_mlp):
    torch = pytest.importorskip("torch")
    module, fn = compiled_mlp
    x = torch.from_numpy(example())
    y = fn(x)
    assert isinstance(y, torch.Tensor)
    np.testing.assert_allclose(y.numpy(), fn(x.numpy()), rtol=0, atol=0)


@pytest.mark.parametrize("bad, message", [
    ((np.zeros((4, 15), np.float32),), "argument 0 ('arg0'): expected shape (4, 16), got (4, 15)"),
    ((np.zeros((4, 16), np.float64),), "argument 0 ('arg0'): expected dtype float32, got float64"),
    ((np.zeros((16, 4), np.float32).T,), "argument 0 ('arg0'): the array is not C-contiguous"),
    (([[0.0] * 16] * 4,), "argument 0 ('arg0'): expected a numpy array or a torch tensor"),
    ((), "expected 1 input(s) (arg0: float32[4, 16]), got 0"),
    ((np.zeros((4, 16), np.float32),) * 2, "expected 1 input(s)"),
])
def test_bad_inputs_raise_naming_the_argument(compiled_mlp, bad, message):
    _, fn = compiled_mlp
    with pytest.raises(InputError) as error:
        fn(*bad)
    assert message in str(error.value)


def test_bad_torch_inputs_raise(compiled_mlp):
    torch = pytest.importorskip("torch")
    _, fn = compiled_mlp
    with pytest.raises(InputError, match="not contiguous"):
        fn(torch.zeros(16, 4).T)
    with pytest.raises(InputError, match="expected dtype float32, got float64"):
        fn(torch.zeros(4, 16, dtype=torch.float64))


def test_gather_indices_are_checked_before_the_call():
    table = np.arange(12, dtype=np.float32).reshape(6, 2)

    def build(indices):
        c = nn.ConstantOp.from_array(table, "table")
        g = nn.GatherOp(c.result, indices, 0)
        return [c, g], [g.result]
    fn = sparsec.compile(block_module([TensorType(i64, (3,))], build))
    np.testing.assert_array_equal(fn(np.array([5, 0, 2])), table[[5, 0, 2]])
    with pytest.raises(InputError, match=r"gather indices must be in \[0, 6\), got values in "
                                         r"\[0, 6\]"):
        fn(np.array([6, 0, 2]))


def test_calls_from_several_threads(compiled_mlp):
    """Each calling thread has its own arena; results match the single-threaded ones."""
    _, fn = compiled_mlp
    inputs = [example(seed) for seed in range(8)]
    expected = [fn(x) for x in inputs]
    failures = []

    def worker(index: int) -> None:
        for _ in range(50):
            got = fn(inputs[index])
            if not np.array_equal(got, expected[index]):
                failures.append(index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_second_compile_is_a_cache_hit(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSEC_CACHE_DIR", str(tmp_path / "fresh"))
    first = sparsec.compile(mlp())
    second = sparsec.compile(mlp())
    assert not first.from_cache and second.from_cache
    x = example(3)
    np.testing.assert_array_equal(first(x), second(x))
    assert any((tmp_path / "fresh").iterdir())
    # another pipeline (threads) is another entry, sharing the packed weights
    assert not sparsec.compile(mlp(), threads=2).from_cache
    assert len(list((tmp_path / "fresh" / "weights").glob("*.npy"))) == 1


def test_cache_key_covers_the_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSEC_CACHE_DIR", str(tmp_path / "weights"))

    def scaled(factor):
        w = np.full((3, 3), factor, np.float32)

        def build(x):
            c = nn.ConstantOp.from_array(w, "w")
            op = nn.MatmulOp(x, c.result)
            return [c, op], [op.result]
        return block_module([TensorType(f32, (2, 3))], build)

    x = np.ones((2, 3), np.float32)
    one, two = sparsec.compile(scaled(1.0)), sparsec.compile(scaled(2.0))
    assert not two.from_cache
    np.testing.assert_array_equal(two(x), 2 * one(x))


def test_arena_is_planned_by_liveness():
    """A chain of 6 same-size intermediates needs 2 buffers at once: the arena is the
    floor, a third of the sum."""
    def build(x):
        ops, value = [], x
        for _ in range(7):
            ops += [neg := nn.NegOp(value), exp := nn.ExpOp(neg.result)]
            ops.append(t := nn.TransposeOp(exp.result, [1, 0]))
            value = t.result
        return ops, [value]
    fn = sparsec.compile(block_module([TensorType(f32, (64, 64))], build))
    arena = fn.arena
    assert arena["floor"] <= arena["bytes"] <= 1.5 * arena["floor"]
    assert arena["bytes"] < arena["total"] / 2
    x = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
    module = block_module([TensorType(f32, (64, 64))], build)
    np.testing.assert_allclose(fn(x), interpret(module, x)[0], rtol=1e-5)


def test_outputs_that_alias_inputs_constants_and_each_other():
    text = """
    func.func @main(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3x2xf32>, tensor<2x3xf32>,
                                             tensor<2xf32>, tensor<3x2xf32>) {
      %c = nn.constant dense<[1.5, -2.0]> : tensor<2xf32>
      %r = nn.reshape %x : (tensor<2x3xf32>) -> tensor<3x2xf32>
      %n = nn.neg %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
      %m = nn.reshape %n : (tensor<2x3xf32>) -> tensor<3x2xf32>
      func.return %x, %r, %n, %c, %m : tensor<2x3xf32>, tensor<3x2xf32>, tensor<2x3xf32>,
                                       tensor<2xf32>, tensor<3x2xf32>
    }
    """
    module = parse_module(text)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = sparsec.compile(module)(x)
    for actual, expected in zip(got, interpret(module, x), strict=True):
        np.testing.assert_array_equal(actual, expected)
    assert not np.shares_memory(got[0], x)


def test_fused_regions_are_lowered():
    text = """
    func.func @main(%x: tensor<4x5xf32>, %y: tensor<5xf32>) -> tensor<4x5xf32> {
      %f = nn.fused %x, %y attributes {mapping = "one-to-many"} {
      ^bb0(%a: tensor<4x5xf32>, %b: tensor<5xf32>):
        %s = nn.add %a, %b : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
        %t = nn.sigmoid %s : (tensor<4x5xf32>) -> tensor<4x5xf32>
        nn.yield %t : tensor<4x5xf32>
      } : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
      %g = nn.relu %f : (tensor<4x5xf32>) -> tensor<4x5xf32>
      func.return %g : tensor<4x5xf32>
    }
    """
    module = parse_module(text)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal(5).astype(
        np.float32)
    fn = sparsec.compile(module)
    np.testing.assert_allclose(fn(x, y), interpret(module, x, y)[0], rtol=1e-5, atol=1e-6)
    assert fn.kernels[0]["group"] == "fused_0"


def test_report_lists_kernels_with_time_flops_and_bytes(compiled_mlp):
    _, fn = compiled_mlp
    out = io.StringIO()
    rows = fn.report(example(), runs=3, file=out)
    text = out.getvalue()
    assert [r["name"] for r in rows] == [k["name"] for k in fn.kernels]
    assert rows[0]["ops"] == ["nn.linear", "nn.relu"]
    assert rows[0]["flops"] == 2 * 4 * 24 * 16 + 4 * 24
    assert all(r["ms"] >= 0 for r in rows)
    assert "total" in text and "arena" in text and "linear_relu_0" in text


def test_compile_rejects_what_it_cannot_lower():
    text = """
    func.func @other(%x: tensor<2xf32>) -> tensor<2xf32> {
      func.return %x : tensor<2xf32>
    }
    """
    with pytest.raises(Exception, match="no func.func @main"):
        sparsec.compile(parse_module(text))
    with pytest.raises(ValueError, match="threads must be >= 1"):
        sparsec.compile(mlp(), threads=0)
    with pytest.raises(ValueError, match="unknown target 'risc-v'"):
        sparsec.compile(mlp(), target="risc-v")


def test_two_threads_match_one(compiled_mlp):
    module, fn = compiled_mlp
    two = sparsec.compile(module, threads=2)
    x = example(5)
    np.testing.assert_allclose(two(x), fn(x), rtol=1e-6, atol=1e-7)


def test_cli_run_jit_bench(tmp_path, capsys):
    from sparsec.tools.cli import main

    path = tmp_path / "block.mlir"
    path.write_text("""
    func.func @main(%x: tensor<3x20xf32>) -> tensor<3x20xf32> {
      %y = nn.gelu %x {approximate = "none"} : (tensor<3x20xf32>) -> tensor<3x20xf32>
      %z = nn.softmax %y {axis = -1 : i64} : (tensor<3x20xf32>) -> tensor<3x20xf32>
      func.return %z : tensor<3x20xf32>
    }
    """)
    assert main(["run", str(path), "--jit", "--bench", "--runs", "3"]) == 0
    out = capsys.readouterr().out
    assert "latency: median" in out and "over 3 runs" in out
    error = float(out.split("output 0: ")[1].split()[0])
    assert error < 1e-5
    assert main(["run", str(path), "--jit"]) == 0
    assert "output 0: float32[3, 20]" in capsys.readouterr().out
