"""aten -> nn conversions, one tiny PyTorch module per case: import it, check which nn
ops it became (and their attributes), run the reference interpreter and compare with
PyTorch eager."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_mlir")

import torch.nn.functional as F  # noqa: E402
from xdsl.dialects.builtin import ModuleOp  # noqa: E402

from sparsec.frontend import UnsupportedOpsError, import_model  # noqa: E402
from sparsec.interpreters import interpret  # noqa: E402

# --- helpers --------------------------------------------------------------------------


class Fn(torch.nn.Module):
    """A module whose forward is `fn(self, *inputs)`, with keyword submodules, parameters
    and buffers."""

    def __init__(self, fn, **members):
        super().__init__()
        self.fn = fn
        for name, value in members.items():
            if isinstance(value, torch.nn.Module):
                self.add_module(name, value)
            elif isinstance(value, torch.nn.Parameter):
                self.register_parameter(name, value)
            else:
                self.register_buffer(name, value)

    def forward(self, *inputs):
        return self.fn(self, *inputs)


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def nn_ops(module: ModuleOp) -> list:
    return [op for op in module.walk() if op.name.startswith("nn.") and op.name != "nn.constant"]


def op_names(module: ModuleOp) -> list[str]:
    return [op.name for op in nn_ops(module)]


def the_op(module: ModuleOp, name: str):
    ops = [op for op in nn_ops(module) if op.name == name]
    assert len(ops) == 1, op_names(module)
    return ops[0]


def prop(op, name):
    value = op.properties[name]
    if hasattr(value, "get_values"):
        return tuple(value.get_values())
    if hasattr(value, "value"):
        if getattr(value.type, "width", None) and value.type.width.data == 1:  # i1: true is -1
            return bool(value.value.data)
        return value.value.data
    return value.data


def check(model, *inputs, rtol=1e-5) -> ModuleOp:
    """Import `model`, interpret it on `inputs`, compare every output with PyTorch:
    |got - expected| <= rtol * (|expected| + max|expected|)."""
    module = import_model(model, inputs)
    got = interpret(module, *[x.numpy() for x in inputs])
    with torch.no_grad():
        expected = torch.utils._pytree.tree_leaves(model(*inputs))
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        e = e.numpy()
        assert g.shape == e.shape and g.dtype == e.dtype
        scale = float(np.max(np.abs(e))) if e.size else 0.0
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * max(scale, 1e-30))
    return module


# --- convolution ----------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    dict(stride=2, padding=3),
    dict(stride=(1, 2), padding=(0, 1), dilation=(2, 1)),
    dict(padding="same", dilation=2),
    dict(padding="valid", bias=False),
    dict(groups=4, padding=1),
])
def test_conv2d(kwargs):
    conv = torch.nn.Conv2d(4, 8, kernel_size=(3, 4) if "same" in str(kwargs) else 3, **kwargs)
    module = check(conv.eval(), randn(1, 4, 9, 10))
    op = the_op(module, "nn.conv2d")
    assert (op.bias is None) == (kwargs.get("bias") is False)
    assert prop(op, "groups") == kwargs.get("groups", 1)


def test_conv2d_same_padding_puts_the_odd_cell_last():
    module = check(torch.nn.Conv2d(2, 3, kernel_size=(2, 4), padding="same").eval(),
                   randn(1, 2, 6, 6))
    assert prop(the_op(module, "nn.conv2d"), "padding") == (0, 1, 1, 2)


def test_depthwise_conv2d():
    module = check(torch.nn.Conv2d(6, 6, 3, groups=6, padding=1).eval(), randn(1, 6, 5, 5))
    assert prop(the_op(module, "nn.conv2d"), "groups") == 6


def test_conv1d_becomes_conv2d_over_a_unit_height():
    module = check(torch.nn.Conv1d(3, 5, 3, stride=2, padding=1).eval(), randn(1, 3, 11))
    assert op_names(module) == ["nn.reshape", "nn.conv2d", "nn.reshape"]


# --- normalisation --------------------------------------------------------------------


def randomized_batch_norm(bn):
    with torch.no_grad():
        bn.running_mean.copy_(randn(bn.num_features, seed=1) * 0.5)
        bn.running_var.copy_(randn(bn.num_features, seed=2).abs() + 0.5)
        if bn.affine:
            bn.weight.copy_(randn(bn.num_features, seed=3))
            bn.bias.copy_(randn(bn.num_features, seed=4))
    return bn.eval()


@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_2d(affine):
    bn = randomized_batch_norm(torch.nn.BatchNorm2d(4, eps=1e-3, affine=affine))
    module = check(bn, randn(2, 4, 3, 3))
    assert math.isclose(prop(the_op(module, "nn.batch_norm"), "epsilon"), 1e-3)


def test_batch_norm_1d_on_features():
    check(randomized_batch_norm(torch.nn.BatchNorm1d(6)), randn(3, 6))


@pytest.mark.parametrize("shape,affine", [((8,), True), ((3, 8), True), ((8,), False)])
def test_layer_norm(shape, affine):
    ln = torch.nn.LayerNorm(shape, eps=1e-6, elementwise_affine=affine)
    if affine:
        with torch.no_grad():
            ln.weight.copy_(randn(*shape, seed=1))
            ln.bias.copy_(randn(*shape, seed=2))
    module = check(ln.eval(), randn(2, 3, 8))
    assert math.isclose(prop(the_op(module, "nn.layer_norm"), "epsilon"), 1e-6)


def test_group_norm():
    gn = torch.nn.GroupNorm(2, 6)
    with torch.no_grad():
        gn.weight.copy_(randn(6, seed=1))
        gn.bias.copy_(randn(6, seed=2))
    check(gn.eval(), randn(2, 6, 3, 4))


@pytest.mark.parametrize("dim", [1, -1])
def test_softmax_and_log_softmax(dim):
    module = check(Fn(lambda m, x: (F.softmax(x, dim), F.log_softmax(x, dim))),
                   randn(2, 5, 3))
    axes = {prop(op, "axis") for op in nn_ops(module) if op.name == "nn.softmax"}
    assert axes == {dim % 3}


# --- linear algebra -------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
def test_linear_keeps_leading_dims(bias):
    module = check(torch.nn.Linear(6, 4, bias=bias).eval(), randn(2, 3, 6))
    assert op_names(module) == ["nn.linear"]


@pytest.mark.parametrize("a,b", [
    ((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((4,), (4, 5)),
    ((3, 4), (4,)), ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2)),
])
def test_matmul_shapes(a, b):
    check(Fn(lambda m, x, y: torch.matmul(x, y)), randn(*a), randn(*b, seed=1))


def test_mm_bmm_addmm():
    check(Fn(lambda m, x, y, z: (torch.mm(x, y), torch.bmm(z, z.transpose(1, 2)),
                                 torch.addmm(m.bias, x, y, beta=0.5, alpha=2.0)),
             bias=randn(5, seed=3)),
          randn(3, 4), randn(4, 5, seed=1), randn(2, 3, 4, seed=2))


@pytest.mark.parametrize("equation,shapes", [
    ("bhid,bhjd->bhij", [(1, 2, 3, 4), (1, 2, 5, 4)]),
    ("ij,jk->ki", [(3, 4), (4, 5)]),
    ("bij->bji", [(2, 3, 4)]),
    ("ij->j", [(3, 4)]),
    ("bi,bj->bij", [(2, 3), (2, 4)]),
])
def test_einsum(equation, shapes):
    inputs = [randn(*s, seed=i) for i, s in enumerate(shapes)]
    check(Fn(lambda m, *xs: torch.einsum(equation, *xs)), *inputs)


# --- pooling and reductions -----------------------------------------------------------


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2),
    dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 1)),
])
def test_max_pool2d(kwargs):
    module = check(torch.nn.MaxPool2d(**kwargs), randn(1, 2, 9, 8))
    op = the_op(module, "nn.max_pool2d")
    assert prop(op, "ceil_mode") == kwargs.get("ceil_mode", False)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=True),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, ceil_mode=True),
    dict(kernel_size=2, divisor_override=3),
])
def test_avg_pool2d(kwargs):
    module = check(torch.nn.AvgPool2d(**kwargs), randn(1, 2, 7, 8))
    op = the_op(module, "nn.avg_pool2d")
    assert prop(op, "count_include_pad") == kwargs.get("count_include_pad", True)
    assert prop(op, "ceil_mode") == kwargs.get("ceil_mode", False)


@pytest.mark.parametrize("size,out", [((7, 7), (1, 1)), ((14, 14), (7, 7)), ((7, 9), (5, 3))])
def test_adaptive_avg_pool2d(size, out):
    module = check(torch.nn.AdaptiveAvgPool2d(out), randn(1, 3, *size))
    assert prop(the_op(module, "nn.adaptive_avg_pool2d"), "output_size") == out


def test_reductions_with_negative_dims_and_keepdim():
    module = check(Fn(lambda m, x: (x.mean(-1, keepdim=True), x.sum((1, -1)),
                                    x.amax(dim=0), x.max(dim=-2).values, x.mean(),
                                    x.amin(1, keepdim=True))),
                   randn(2, 3, 4))
    mean = [op for op in nn_ops(module) if op.name == "nn.reduce_mean"][0]
    assert prop(mean, "axes") == (2,) and prop(mean, "keepdim") is True


def test_max_dim_indices_are_rejected():
    with pytest.raises(UnsupportedOpsError, match="indices"):
        import_model(Fn(lambda m, x: x.max(dim=1).indices.float() + x[:, 0]), (randn(2, 3),))


# --- element-wise ---------------------------------------------------------------------

UNARY = {
    "relu": F.relu, "relu6": F.relu6, "hardtanh": lambda x: F.hardtanh(x, -2.0, 3.0),
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu,
    "hardswish": F.hardswish, "hardsigmoid": F.hardsigmoid, "exp": torch.exp,
    "log": lambda x: torch.log(x.abs() + 0.1), "sqrt": lambda x: torch.sqrt(x.abs()),
    "rsqrt": lambda x: torch.rsqrt(x.abs() + 0.1), "reciprocal": lambda x: 1 / (x.abs() + 1),
    "neg": torch.neg, "abs": torch.abs, "erf": torch.erf, "leaky_relu": F.leaky_relu,
    "clamp": lambda x: x.clamp(min=-0.5), "clamp_max": lambda x: x.clamp(max=0.5),
    "square": torch.square,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name):
    fn = UNARY[name]
    check(Fn(lambda m, x: fn(x)), randn(2, 3, 4) * 3)


def test_gelu_approximation_attribute():
    module = check(Fn(lambda m, x: F.gelu(x, approximate="tanh")), randn(5))
    assert the_op(module, "nn.gelu").approximate.data == "tanh"


def test_in_place_variants_are_the_same_ops():
    def fn(m, x, y):
        x = x.clone()
        x.relu_()
        x.add_(y)
        return F.hardswish(x, inplace=True)

    module = check(Fn(fn), randn(2, 3), randn(2, 3, seed=1))
    assert op_names(module) == ["nn.relu", "nn.add", "nn.hardswish"]


def test_in_place_updates_through_views_are_functionalised():
    def fn(m, x):
        y = x.clone()
        y[:, 0].relu_()  # writes into y through a view
        mask = x.new_zeros(3, 4)
        mask[1:, :2] = 1.0  # swin's attention-mask pattern, on a constant
        return y * 2, x + mask

    check(Fn(fn), randn(3, 4))


def test_binary_with_scalars_alpha_and_broadcasting():
    def fn(m, x, y):
        return (torch.add(x, y, alpha=2), torch.sub(x, y), 3.0 - x, torch.rsub(x, y, alpha=0.5),
                x * 2, x / 4, x ** 2, torch.maximum(x, y), torch.minimum(x, y), x + m.bias,
                torch.pow(x.abs() + 1, y))

    check(Fn(fn, bias=randn(4, seed=5)), randn(3, 4), randn(1, 4, seed=1))


# --- shapes ---------------------------------------------------------------------------


def test_views_become_reshapes():
    def fn(m, x):
        return (x.view(6, 4), x.reshape(-1), x.flatten(1), x.unflatten(2, (2, 2)),
                x.unsqueeze(-1), x.unsqueeze(0).squeeze(0), x[None].squeeze(), x.contiguous())

    module = check(Fn(fn), randn(2, 3, 4))
    assert set(op_names(module)) == {"nn.reshape"}


def test_permute_transpose_t_and_expand():
    def fn(m, x, v):
        return (x.permute(2, 0, 1), x.transpose(-1, -2), v.t(), x[:, :1].expand(-1, 5, -1),
                x.repeat(2, 1, 3), x.movedim(0, -1), x.swapaxes(0, 1))

    check(Fn(fn), randn(2, 3, 4), randn(3, 5, seed=1))


def test_cat_and_stack_with_negative_dims():
    check(Fn(lambda m, x, y: (torch.cat([x, y, m.c], dim=-1), torch.stack([x, y], dim=-2)),
             c=randn(2, 3, seed=7)),
          randn(2, 3), randn(2, 3, seed=1))


def test_slicing_and_selecting():
    def fn(m, x):
        return (x[:, 1:-1], x[..., ::2], x[-1], x[:, -2], x.narrow(2, 1, 2), x[:, 5:],
                x[:, 1:100])

    module = check(Fn(fn), randn(3, 4, 5))
    assert "nn.slice" in op_names(module)


def test_roll():
    check(Fn(lambda m, x: (torch.roll(x, (1, -2), (1, 2)), torch.roll(x, 3))), randn(2, 3, 4))


def test_vector_norms_and_normalize():
    check(Fn(lambda m, x: (F.normalize(x, dim=-1), torch.linalg.vector_norm(x, 1, dim=1),
                           torch.linalg.vector_norm(x, float("inf"), dim=(0, 2), keepdim=True))),
          randn(2, 3, 4))


def test_chunk_split_unbind():
    def fn(m, x):
        a, b, c = x.chunk(3, dim=1)  # 7 = 3 + 3 + 1
        d, e = x.split([2, 5], dim=-1)
        f, g, h = x.unbind(0)
        return a, b, c, d, e, f, g, h, x.split(4, dim=1)[1]

    check(Fn(fn), randn(3, 7, 7))


def test_embedding_index_select_and_indexing_gather():
    model = Fn(lambda m, i, x: (m.emb(i), x.index_select(1, m.idx), x[:, m.neg]),
               emb=torch.nn.Embedding(10, 4), idx=torch.tensor([2, 0, 2]),
               neg=torch.tensor([-1, 0]))
    module = check(model.eval(), torch.tensor([[1, 0, 9, 3]]), randn(2, 3))
    gathers = [op for op in nn_ops(module) if op.name == "nn.gather"]
    assert [prop(op, "axis") for op in gathers] == [0, 1, 1]


def test_constant_pad_and_crop():
    def fn(m, x):
        return F.pad(x, (1, 2, 0, 3), value=1.5), F.pad(x, (-1, 1, 2, -2))

    module = check(Fn(fn), randn(1, 2, 4, 5))
    pads = [op for op in nn_ops(module) if op.name == "nn.pad"]
    assert prop(pads[0], "low") == (0, 0, 0, 1) and prop(pads[0], "high") == (0, 0, 3, 2)
    assert math.isclose(prop(pads[0], "value"), 1.5)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_non_constant_padding_is_rejected(mode):
    with pytest.raises(UnsupportedOpsError) as info:
        import_model(Fn(lambda m, x: F.pad(x, (1, 1, 1, 1), mode=mode) + 1), (randn(1, 2, 4, 4),))
    assert info.value.ops[0].name.endswith(("pad", "pad2d"))


@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(size=(6, 9)), dict(size=(4, 4))])
def test_upsample_nearest(kwargs):
    module = check(Fn(lambda m, x: F.interpolate(x, mode="nearest", **kwargs)),
                   randn(1, 2, 3, 3))
    assert op_names(module) == ["nn.upsample_nearest"]


@pytest.mark.parametrize("align_corners", [False, True])
def test_bilinear_upsample_is_rejected_with_align_corners(align_corners):
    model = Fn(lambda m, x: F.interpolate(x, scale_factor=2, mode="bilinear",
                                          align_corners=align_corners))
    with pytest.raises(UnsupportedOpsError, match=f"align_corners={align_corners}"):
        import_model(model, (randn(1, 2, 3, 3),))


# --- attention ------------------------------------------------------------------------


def test_scaled_dot_product_attention_is_decomposed():
    q, k, v = randn(1, 2, 5, 8), randn(1, 2, 6, 8, seed=1), randn(1, 2, 6, 4, seed=2)
    module = check(Fn(lambda m, q, k, v: F.scaled_dot_product_attention(q, k, v)), q, k, v)
    assert op_names(module) == ["nn.mul", "nn.transpose", "nn.matmul", "nn.softmax",
                                "nn.matmul"]


def test_attention_masks_causal_and_scale():
    q, k, v = randn(1, 2, 5, 8), randn(1, 2, 5, 8, seed=1), randn(1, 2, 5, 8, seed=2)
    bool_mask = torch.rand(5, 5, generator=torch.Generator().manual_seed(0)) > 0.3
    bool_mask[:, 0] = True  # every row attends somewhere
    check(Fn(lambda m, q, k, v: (
        F.scaled_dot_product_attention(q, k, v, is_causal=True),
        F.scaled_dot_product_attention(q, k, v, attn_mask=m.float_mask, scale=0.3),
        F.scaled_dot_product_attention(q, k, v, attn_mask=m.bool_mask)),
        float_mask=randn(5, 5, seed=3), bool_mask=bool_mask), q, k, v)


def test_multihead_attention_module():
    model = Fn(lambda m, x: m.mha(x, x, x, need_weights=False)[0],
               mha=torch.nn.MultiheadAttention(16, 4, batch_first=True))
    check(model.eval(), randn(1, 6, 16))


# --- recurrent layers -----------------------------------------------------------------


@pytest.mark.parametrize("cls", [torch.nn.GRU, torch.nn.LSTM, torch.nn.RNN])
@pytest.mark.parametrize("kwargs", [
    dict(num_layers=2, batch_first=True),
    dict(num_layers=1, bidirectional=True),
    dict(num_layers=2, bias=False, batch_first=True, bidirectional=True),
])
def test_recurrent_layers_unrolled(cls, kwargs):
    model = Fn(lambda m, x: m.rnn(x), rnn=cls(3, 5, **kwargs)).eval()
    module = check(model, randn(2, 4, 3))
    assert "nn.linear" in op_names(module)


def test_recurrent_layer_with_initial_state():
    model = Fn(lambda m, x, h: m.rnn(x, h), rnn=torch.nn.GRU(3, 4, batch_first=True)).eval()
    check(model, randn(1, 5, 3), randn(1, 1, 4, seed=1))


# --- constants, modes, weights --------------------------------------------------------


def test_computations_on_constants_are_folded():
    model = Fn(lambda m, x: x * m.w.exp().sum() + torch.zeros_like(x) + torch.ones(3)
               + torch.arange(3.0), w=randn(4))
    module = check(model, randn(2, 3))
    assert op_names(module) == ["nn.mul", "nn.add", "nn.add", "nn.add"]


def test_like_constructors_are_constants():
    module = check(Fn(lambda m, x: (x + torch.ones_like(x), torch.full_like(x, 2.5) * x,
                                    x.new_zeros(2, 3) + x)), randn(2, 3))
    assert "nn.constant" in {op.name for op in module.walk()}


def test_dropout_vanishes_and_training_flags_are_restored():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.5),
                                torch.nn.BatchNorm1d(4))
    model.train()
    module = import_model(model, (randn(3, 4),))
    assert op_names(module) == ["nn.linear", "nn.batch_norm"]
    assert all(m.training for m in model.modules())
    model.eval()
    with torch.no_grad():
        expected = model(randn(3, 4)).numpy()
    np.testing.assert_allclose(interpret(module, randn(3, 4).numpy())[0], expected,
                               rtol=1e-5, atol=1e-6)


def test_weights_are_copies_keyed_by_state_dict_names():
    model = torch.nn.Linear(8, 6).eval()
    module = import_model(model, (randn(1, 8),))
    keys = {op.value.resource_handle.data for op in module.walk()
            if op.name == "nn.constant" and hasattr(op.value, "resource_handle")}
    assert keys == {"weight"}  # the 6-element bias is inline
    before = interpret(module, randn(1, 8).numpy())[0]
    with torch.no_grad():
        model.weight.zero_()
    np.testing.assert_array_equal(interpret(module, randn(1, 8).numpy())[0], before)


def test_shared_weight_is_one_constant():
    linear = torch.nn.Linear(4, 4)
    model = Fn(lambda m, x: m.a(m.b(x)), a=linear, b=linear).eval()
    module = check(model, randn(2, 4))
    assert sum(op.name == "nn.constant" for op in module.walk()) == 2


def test_several_inputs_and_outputs():
    module = check(Fn(lambda m, x, y: (x + y, x * y, torch.relu(y))), randn(2, 3),
                   randn(2, 3, seed=1))
    main = next(op for op in module.walk() if op.name == "func.func")
    assert len(main.function_type.inputs.data) == 2
    assert len(main.function_type.outputs.data) == 3


# --- rejected operators ---------------------------------------------------------------


def test_unsupported_ops_are_listed_together_with_counts_and_locations():
    def fn(m, x):
        y = torch.sort(x, dim=-1).values + torch.sort(x * 2, dim=-1).values
        z = F.interpolate(x[:, None, None], scale_factor=2, mode="bilinear")
        return torch.cumsum(y, 1) + z.sum()  # cumsum is listed though its input failed

    with pytest.raises(UnsupportedOpsError) as info:
        import_model(Fn(fn), (randn(2, 3),))
    error = info.value
    assert error.counts == {"torch.aten.sort": 2, "torch.aten.cumsum": 1,
                            "torch.aten.upsample_bilinear2d.vec": 1}
    assert all("test_torch_to_nn.py" in op.location for op in error.ops)
    message = str(error)
    assert message.startswith("error: 3 unsupported operators (4 uses)")
    assert "torch.aten.sort: 2 uses: no conversion to nn" in message


def test_a_runtime_bool_mask_is_rejected_with_a_reason():
    model = Fn(lambda m, q, mask: F.scaled_dot_product_attention(q, q, q, attn_mask=mask))
    with pytest.raises(UnsupportedOpsError, match="boolean attention mask"):
        import_model(model, (randn(1, 1, 3, 4), torch.ones(3, 3, dtype=torch.bool)))
