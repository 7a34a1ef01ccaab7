"""Yellow cells decided by timing JIT code, and the on-disk profile database."""

import json

import numpy as np
import pytest

from sparsec.dialects import nn
from sparsec.dialects.nn.builder import FunctionBuilder as Fn
from sparsec.interpreters import interpret
from sparsec.lowering.pipelines import run_spec
from sparsec.runtime.profile import (
    JitOracle,
    ProfileDatabase,
    ProfilingFusePass,
    latency_key,
    profile_dir,
)
from sparsec.transforms.fusion import plan_module
from sparsec.transforms.fusion.plan import Outcome
from sparsec.transforms.fusion.table import Colour
from sparsec.universe import all_passes


def gpt2_projection():
    """MatMul + Reshape + Transpose + Add: Many-to-Many -> Reorganize is yellow."""
    f = Fn((1, 8, 16), (1, 2, 8, 8))
    x, y = f.args
    mm = f(nn.MatmulOp(x, f.const((16, 16), 0.1)))
    heads = f(nn.TransposeOp(f(nn.ReshapeOp(mm, (1, 8, 2, 8))), (0, 2, 1, 3)))
    return f.module(f(nn.AddOp(heads, y)))


def plan_of(module, **kwargs):
    (plan,) = plan_module(module, **kwargs)
    return plan


def names(plan):
    return [[op.name.removeprefix("nn.") for op in g.ops] for g in plan.groups]


def outcomes(plan, candidate):
    return [(d.colour, d.outcome) for d in plan.decisions if d.candidate.name == candidate]


def fused_ops(module):
    return [op for op in module.walk() if isinstance(op, nn.FusedOp)]


def test_database_round_trip_and_atomic_files(tmp_path):
    db = ProfileDatabase(tmp_path / "db")
    assert db.get("k") is None and len(db) == 0
    db.put("k", 1.5, {"ops": ["nn.relu"]})
    assert db.get("k") == 1.5 and len(db) == 1
    assert json.loads((tmp_path / "db" / "k.json").read_text())["ops"] == ["nn.relu"]
    assert not list((tmp_path / "db").glob(".tmp-*"))
    (tmp_path / "db" / "bad.json").write_text("{not json")
    assert db.get("bad") is None  # a corrupt entry is a missing one


def test_profile_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SPARSEC_PROFILE_DIR", str(tmp_path))
    assert profile_dir() == tmp_path
    assert ProfileDatabase().root == tmp_path


def _relu_add(shape, weight):
    f = Fn(shape)
    x = f.args[0]
    return f.module(f(nn.AddOp(f(nn.ReluOp(x)), f.const(shape[-1:], weight))))


def _ops(module):
    return [op for op in module.ops.first.body.block.ops
            if isinstance(op, nn.NNOperation) and not isinstance(op, nn.ConstantOp)]


def test_key_depends_on_shapes_and_target_not_on_weight_values():
    a = _ops(_relu_add((1, 4, 32), 0.5))
    b = _ops(_relu_add((1, 4, 32), 0.25))
    c = _ops(_relu_add((1, 8, 32), 0.5))
    assert latency_key(a, "host", 1) == latency_key(b, "host", 1)
    assert latency_key(a, "host", 1) != latency_key(c, "host", 1)
    assert latency_key(a, "host", 1) != latency_key(a, "host", 2)
    assert latency_key(a, "host", 1) != latency_key(a[:1], "host", 1)


def test_a_real_yellow_decision_is_measured_once_then_looked_up(tmp_path):
    """matmul -> {reshape, transpose, add}: Many-to-Many -> Reorganize is yellow. The
    JIT times the three alternatives (fused group, group, matmul); a second planner with
    a fresh oracle over the same database measures nothing and decides the same. Which
    way it decides is this machine's business: no timing is asserted."""
    db = ProfileDatabase(tmp_path)
    first = JitOracle(database=db)
    plan = plan_of(gpt2_projection(), oracle=first)
    assert first.measurements == 3 and len(db) == 3
    (decision,) = outcomes(plan, "nn.matmul")
    assert decision[0] is Colour.YELLOW and decision[1] in (Outcome.FUSED, Outcome.SLOWER)
    second = JitOracle(database=db)
    again = plan_of(gpt2_projection(), oracle=second)
    assert second.measurements == 0
    assert names(again) == names(plan)
    assert outcomes(again, "nn.matmul") == [decision]


def test_fuse_profile_true_from_a_pass_spec(monkeypatch, tmp_path):
    """The registry's `fuse` is the profiling pass; `fuse{profile=true}` plans with the
    JIT oracle and keeps the semantics."""
    monkeypatch.setenv("SPARSEC_PROFILE_DIR", str(tmp_path))
    assert all_passes()["fuse"]() is ProfilingFusePass
    module = gpt2_projection()
    rng = np.random.default_rng(0)
    x, y = (rng.standard_normal(s).astype(np.float32) for s in ((1, 8, 16), (1, 2, 8, 8)))
    before = interpret(module, x, y)
    run_spec(module, "fuse{profile=true}")
    module.verify()
    assert len(fused_ops(module)) == 1
    assert len(ProfileDatabase(tmp_path)) == 3
    assert interpret(module, x, y)[0].tobytes() == before[0].tobytes()


def test_profile_false_still_treats_yellow_as_break(tmp_path):
    module = gpt2_projection()
    ProfilingFusePass(profile=False).apply(None, module)
    (group,) = fused_ops(module)
    assert [op.name for op in group.body.block.ops if op.name != "nn.yield"] == \
        ["nn.reshape", "nn.transpose", "nn.add"]


def test_max_ops_is_still_checked_with_profiling():
    with pytest.raises(Exception, match="max-ops"):
        ProfilingFusePass(profile=True, max_ops=0).apply(None, gpt2_projection())
