"""The sparse dialect (encodings, `fields`, `sparse.assemble`, pack/unpack checks), the
`sparsify` pass's options and plumbing, and the torch-side `sparsec.prune`.
Generated-shape properties are tests/property/test_sparsity.py."""

import re

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType, f32
from xdsl.ir import Block, Region
from xdsl.utils.exceptions import ParseError, VerifyException

import sparsec
from sparsec.dialects import nn
from sparsec.dialects.resources import encode_blob
from sparsec.dialects.sparse import (
    AssembleOp,
    BCRAttr,
    BSRAttr,
    CSRAttr,
    Extent,
    PatternAttr,
    fields,
    pack,
    unpack,
)
from sparsec.dialects.sparse.formats import bcr_reorder
from sparsec.interpreters import interpret
from sparsec.textio import SparsecError, parse_module, print_module
from sparsec.transforms.sparsity import BCR, BSR, CSR, Pattern
from sparsec.transforms.sparsity.bcr import bcr_keep
from sparsec.transforms.sparsity.detect import detect
from sparsec.transforms.sparsity.pattern import ALL_PATTERNS, select_patterns
from sparsec.transforms.sparsity.prune import fallback_block, prune_weights
from sparsec.transforms.sparsity.sparsify import SparsifyPass
from sparsec.universe import make_context

PATTERNS = ((0, 1, 3, 4), (1, 4, 5, 7), (3, 4, 5, 8))

# --- encodings: text --------------------------------------------------------------------


def parse_type(text: str):
    from xdsl.parser import Parser

    return Parser(make_context(), text).parse_type()


@pytest.mark.parametrize("text", [
    "tensor<16x32xf32, #sparse.bcr<block = [8, 4]>>",
    "tensor<16x32xf32, #sparse.bsr<block = [4, 4]>>",
    "tensor<16x32xf32, #sparse.csr>",
    "tensor<8x4x3x3xf32, #sparse.pattern<patterns = [[0, 1, 3, 4], [1, 4, 5, 7]]>>",
])
def test_encodings_print_and_parse_back(text):
    type = parse_type(text)
    assert str(type) == text
    assert parse_type(str(type)) == type


def test_encodings_from_python():
    assert str(BCRAttr((8, 4))) == "#sparse.bcr<block = [8, 4]>"
    assert BCRAttr((8, 4)).block == (8, 4)
    assert str(CSRAttr()) == "#sparse.csr"
    assert PatternAttr(PATTERNS).patterns == PATTERNS
    assert BCRAttr((8, 4)) == BCRAttr([8, 4]) != BSRAttr((8, 4))


# --- encodings: rejected, naming the attribute --------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("#sparse.bcr<block = [0, 4]>", "#sparse.bcr: block must be two positive integers"),
    ("#sparse.bsr<block = [4]>", "#sparse.bsr: block must be two positive integers"),
    ("#sparse.pattern<patterns = []>", "#sparse.pattern: the pattern set is empty"),
    ("#sparse.pattern<patterns = [[0, 1, 4]]>", "pattern 0 [0, 1, 4] keeps 3 weights"),
    ("#sparse.pattern<patterns = [[0, 1, 2, 3]]>", "does not keep the centre (position 4)"),
    ("#sparse.pattern<patterns = [[0, 4, 5, 9]]>", "has a position outside 0..8"),
    ("#sparse.pattern<patterns = [[4, 0, 1, 5]]>", "distinct positions in ascending order"),
    ("#sparse.pattern<patterns = [[0, 1, 4, 5], [0, 1, 4, 5]]>",
     "pattern 1 [0, 1, 4, 5] repeats pattern 0"),
])
def test_invalid_encodings_are_parse_errors_naming_the_attribute(text, message):
    with pytest.raises(ParseError, match=re.escape(message)):
        parse_type(f"tensor<8x4x3x3xf32, {text}>")


def test_invalid_encodings_from_python():
    with pytest.raises(VerifyException, match="#sparse.bcr: block must be two positive"):
        BCRAttr((8, 0))
    with pytest.raises(VerifyException, match="#sparse.pattern: pattern 0 .* centre"):
        PatternAttr([(0, 1, 2, 3)])


@pytest.mark.parametrize("encoding, shape, message", [
    (BCRAttr((8, 4)), (16, 30), r"the 16x30 matrix view of a 16x30 tensor is not divisible "
                                r"into 8x4 blocks \(16 % 8 = 0, 30 % 4 = 2\)"),
    (BCRAttr((8, 4)), (64, 3, 3, 3), "the 64x27 matrix view of a 64x3x3x3 tensor"),
    (BSRAttr((3, 4)), (16, 32), "not divisible into 3x4 blocks"),
    (CSRAttr(), (16,), "needs a tensor of rank >= 2"),
    (PatternAttr(PATTERNS), (8, 4, 1, 1), r"3x3 kernels \[Cout, Cin, 3, 3\], got shape 8x4x1x1"),
    (PatternAttr(PATTERNS), (8, 36), "got shape 8x36"),
])
def test_encodings_check_the_shape(encoding, shape, message):
    with pytest.raises(VerifyException, match=message):
        encoding.verify_shape(shape)
    with pytest.raises(ValueError, match=message):
        pack(encoding, np.ones(shape, np.float32))


# --- fields: the one definition -----------------------------------------------------------


def test_fields_of_each_format():
    def names(encoding, shape):
        return [f.name for f in fields(encoding, shape)]

    assert names(CSRAttr(), (4, 6)) == ["indptr", "indices", "values"]
    assert names(BSRAttr((2, 3)), (4, 6)) == ["indptr", "indices", "blocks"]
    assert names(BCRAttr((2, 3)), (4, 6)) == ["reorder", "row_ptr", "rows", "col_ptr", "cols",
                                              "val_ptr", "values"]
    assert names(PatternAttr(PATTERNS), (8, 4, 3, 3)) == [
        "reorder", "offsets", "strides", "pattern_ids", "channels", "weights"]
    bcr = {f.name: f for f in fields(BCRAttr((2, 3)), (4, 6))}
    assert bcr["row_ptr"].shape == (2 * 2 + 1,) and bcr["reorder"].shape == (4,)
    assert bcr["values"].kind == "value" and bcr["rows"].kind == "index"
    pattern = {f.name: f for f in fields(PatternAttr(PATTERNS), (8, 4, 3, 3))}
    assert pattern["strides"].shape == (Extent("runs", 1),)
    assert pattern["weights"].shape == (Extent("kernels"), 4)
    assert all(f.doc for f in fields(PatternAttr(PATTERNS), (8, 4, 3, 3)))


def test_pack_is_in_field_order_and_the_arrays_fit_the_op():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 12)).astype(np.float32)
    w[rng.random(w.shape) < 0.5] = 0
    for encoding in (CSRAttr(), BSRAttr((2, 4)), BCRAttr((4, 4))):
        arrays = pack(encoding, w)
        assert list(arrays) == [f.name for f in fields(encoding, w.shape)]
        assert np.array_equal(unpack(encoding, w.shape, arrays), w)
        op = assemble(encoding, w.shape, arrays)
        op.verify()


# --- sparse.assemble ----------------------------------------------------------------------


def assemble(encoding, shape, arrays):
    constants = [nn.ConstantOp.from_array(a, f"k{i}") for i, a in enumerate(arrays.values())]
    return AssembleOp([c.result for c in constants], TensorType(f32, shape, encoding))


def test_assemble_rejects_a_type_without_encoding():
    op = AssembleOp([], TensorType(f32, (4, 4)))
    with pytest.raises(VerifyException, match="sparse.assemble: the result type .* has no "
                                              "#sparse encoding"):
        op.verify()


def test_assemble_names_the_array_that_does_not_fit():
    arrays = pack(CSRAttr(), np.eye(4, dtype=np.float32))
    with pytest.raises(VerifyException, match=r"stores 3 arrays \(indptr, indices, values\), "
                                              "got 2"):
        assemble(CSRAttr(), (4, 4), dict(list(arrays.items())[:2])).verify()
    wrong_type = {**arrays, "indices": arrays["indices"].astype(np.int64)}
    with pytest.raises(VerifyException, match="array 'indices' must have shape \\[nnz\\] of "
                                              "i32, got tensor<4xi64>"):
        assemble(CSRAttr(), (4, 4), wrong_type).verify()
    short = {**arrays, "values": arrays["values"][:3]}
    with pytest.raises(VerifyException, match="array 'values' has 3 entries where nnz is "
                                              "expected, but an earlier array makes nnz = 4"):
        assemble(CSRAttr(), (4, 4), short).verify()
    with pytest.raises(VerifyException, match=r"array 'indptr' must have shape \[9\]"):
        assemble(CSRAttr(), (8, 2), arrays).verify()


def test_unpack_checks_the_arrays_and_names_the_field():
    w = np.arange(1, 17, dtype=np.float32).reshape(4, 4) * (np.eye(4) + np.eye(4, k=1))
    csr = pack(CSRAttr(), w)
    cases = [
        ({**csr, "indptr": np.array([0, 2, 1, 5, 7])}, "'indptr' must rise from 0 to 7"),
        ({**csr, "indices": csr["indices"] + 1}, r"indices\[5\] = 4 is outside the columns 0..3"),
        ({**csr, "indices": csr["indices"][::-1].copy()}, "strictly ascending within each row"),
        ({**csr, "values": csr["values"][:5]}, r"'values' must have shape \(7,\)"),
    ]
    for arrays, message in cases:
        with pytest.raises(ValueError, match=message):
            unpack(CSRAttr(), (4, 4), arrays)
    bcr = pack(BCRAttr((2, 2)), w)
    with pytest.raises(ValueError, match="'reorder' must be a permutation of 0..3"):
        unpack(BCRAttr((2, 2)), (4, 4), {**bcr, "reorder": np.zeros(4, np.int32)})
    with pytest.raises(ValueError, match=r"rows\[0\] = 2 is outside its tile's range 0..1"):
        unpack(BCRAttr((2, 2)), (4, 4), {**bcr, "rows": bcr["rows"] + 2})
    pattern_w = np.zeros((2, 2, 3, 3), np.float32)
    pattern_w[0, 1].flat[[0, 1, 3, 4]] = 1
    pattern_w[1, 0].flat[[1, 4, 5, 7]] = 2
    fkw = pack(PatternAttr(PATTERNS), pattern_w)
    twice = {**fkw, "channels": np.array([0, 0], np.int32),
             "reorder": np.array([0, 1], np.int32)}
    twice["offsets"], twice["strides"] = np.array([0, 2, 2]), np.array([0, 1, 2])
    with pytest.raises(ValueError, match=r"kernel \[0, 0\] is stored more than once"):
        unpack(PatternAttr(PATTERNS), (2, 2, 3, 3), twice)
    with pytest.raises(ValueError, match="pattern_ids.* outside the pattern set's ids 0..2"):
        unpack(PatternAttr(PATTERNS), (2, 2, 3, 3), {**fkw, "pattern_ids": fkw["pattern_ids"] + 3})


def test_pack_rejects_a_kernel_no_pattern_covers():
    w = np.zeros((2, 3, 3, 3), np.float32)
    w[1, 2].flat[[0, 2]] = 1.0
    with pytest.raises(ValueError, match=r"kernel \[1, 2\] has nonzeros at positions \[0, 2\], "
                                         "which no pattern of the set covers"):
        pack(PatternAttr(PATTERNS), w)


def test_pattern_layout_is_filter_kernel_reordered():
    w = np.zeros((3, 4, 3, 3), np.float32)
    for o, i, p in [(0, 2, 1), (1, 0, 2), (1, 3, 0), (1, 1, 2), (2, 1, 0)]:
        w[o, i].flat[list(PATTERNS[p])] = 10 * o + i + np.arange(1, 5)
    fkw = pack(PatternAttr(PATTERNS), w)
    # filter 1 keeps 3 kernels, filters 0 and 2 one each (stable order)
    assert fkw["reorder"].tolist() == [1, 0, 2]
    assert fkw["offsets"].tolist() == [0, 2, 3, 4]           # filter 1 has two pattern runs
    assert fkw["pattern_ids"].tolist() == [0, 2, 1, 0]
    assert fkw["strides"].tolist() == [0, 1, 3, 4, 5]
    assert fkw["channels"].tolist() == [3, 0, 1, 2, 1]      # ascending within a run
    assert fkw["weights"][0].tolist() == [14, 15, 16, 17]
    assert np.array_equal(unpack(PatternAttr(PATTERNS), w.shape, fkw), w)


def test_bcr_layout():
    w = np.zeros((4, 4), np.float32)
    w[0, [1, 2]] = [1, 2]      # tile (0, 0): row 0 x column 1; tile (0, 1): row 0 x column 2
    w[2:4, 0] = [3, 4]         # tile (1, 0): rows 2..3 x column 0
    w[3, 3] = 5                # tile (1, 1): row 3 x column 3
    bcr = pack(BCRAttr((2, 2)), w)
    assert bcr["row_ptr"].tolist() == [0, 1, 2, 4, 5]
    assert bcr["rows"].tolist() == [0, 0, 2, 3, 3]
    assert bcr["col_ptr"].tolist() == [0, 1, 2, 3, 4]
    assert bcr["cols"].tolist() == [1, 2, 0, 3]
    assert bcr["val_ptr"].tolist() == [0, 1, 2, 4, 5]
    assert bcr["values"].tolist() == [1, 2, 3, 4, 5]
    # rows by kept weights (2, 0, 1, 2), ties in row order
    assert bcr["reorder"].tolist() == [0, 3, 2, 1]


def test_bcr_reorder_groups_rows_with_the_same_columns():
    kept = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1]], bool)
    assert bcr_reorder(kept).tolist() == [1, 0, 2, 3]


# --- nn ops take encoded weights ------------------------------------------------------------


def test_nn_ops_accept_encoded_weights():
    bcr = TensorType(f32, (8, 16), BCRAttr((4, 4)))
    pattern = TensorType(f32, (8, 4, 3, 3), PatternAttr(PATTERNS))
    x, w, k, conv_x, w_pattern = Block(arg_types=[
        TensorType(f32, (2, 16)), bcr, TensorType(f32, (16, 8), CSRAttr()),
        TensorType(f32, (1, 4, 5, 5)), pattern]).args
    nn.LinearOp(x, w).verify()
    nn.MatmulOp(x, k).verify()
    assert nn.Conv2dOp(conv_x, w_pattern).result.type == TensorType(f32, (1, 8, 3, 3))


# --- the pass: options, plumbing --------------------------------------------------------------


@pytest.mark.parametrize("options, message", [
    (dict(scheme="magic"), "unknown scheme 'magic'; choose one of detect, bcr, pattern"),
    (dict(scheme="bcr", block="8by4"), "a block is written ROWSxCOLUMNS, e.g. 8x4"),
    (dict(scheme="bcr", block="0x4"), "block must be two positive integers"),
    (dict(scheme="bcr", rate=1.0), r"rate is the fraction of weights pruned, in \[0, 1\)"),
    (dict(rate=0.5), "scheme=detect prunes nothing, so it takes no rate"),
    (dict(scheme="pattern", patterns=57), "patterns must be in 1..56"),
    (dict(scheme="pattern", connectivity=0.5), "connectivity .* >= 1"),
])
def test_pass_options_are_checked(options, message):
    with pytest.raises(ValueError, match=message):
        SparsifyPass(**options)


def test_pass_options_from_a_spec_string():
    from xdsl.passes import PassPipeline

    [p] = PassPipeline.parse_spec({"sparsify": lambda: SparsifyPass},
                                  "sparsify{scheme=bcr block=8x4 rate=0.8}").passes
    assert p == SparsifyPass("bcr", "8x4", 0.8)
    assert p.to_scheme() == BCR((8, 4), 0.8)
    [q] = PassPipeline.parse_spec({"sparsify": lambda: SparsifyPass},
                                  "sparsify{scheme=pattern connectivity=4}").passes
    assert q.to_scheme() == Pattern(8, 4.0, (8, 4), None)


def test_pass_from_scheme_round_trips():
    for scheme in (BCR((4, 2), 0.5), Pattern(4, 2.0, (8, 4), 0.7), CSR(0.9), BSR((4, 4), 0.6)):
        assert SparsifyPass.from_scheme(scheme).to_scheme() == scheme


def linear_module(weight: np.ndarray, uses: int = 1) -> ModuleOp:
    x_type = TensorType(f32, (1, weight.shape[1]))
    block = Block(arg_types=[x_type])
    w = nn.ConstantOp.from_array(weight, "fc.weight")
    ops = [w]
    y = block.args[0]
    for _ in range(uses):
        op = nn.LinearOp(block.args[0], w.result)
        ops.append(op)
        y = op.result
    block.add_ops([*ops, func.ReturnOp(y)])
    return ModuleOp([func.FuncOp("main", ([x_type], [y.type]), Region(block))])


def test_pass_leaves_weights_with_other_uses_alone():
    weight = np.random.default_rng(0).standard_normal((8, 8)).astype(np.float32)
    module = linear_module(weight)
    SparsifyPass("bcr", "4x4", 0.5).apply(make_context(), module)
    assert "sparse.assemble" in print_module(module)
    shared = linear_module(weight)
    w = shared.body.block.first_op.body.block.first_op
    w.parent.insert_op_after(nn.AddOp(w.result, w.result), w)  # not only a weight now
    SparsifyPass("bcr", "4x4", 0.5).apply(make_context(), shared)
    assert "sparse.assemble" not in print_module(shared)


def test_detect_leaves_dense_weights_and_packs_pruned_ones():
    rng = np.random.default_rng(1)
    dense = rng.standard_normal((8, 16)).astype(np.float32)
    assert detect({"w": dense}) == {}
    module = linear_module(dense)
    before = print_module(module)
    SparsifyPass().apply(make_context(), module)
    assert print_module(module) == before
    pruned = dense * (rng.random(dense.shape) < 0.3)
    module = linear_module(pruned)
    x = rng.standard_normal((1, 16)).astype(np.float32)
    expected = interpret(module, x)
    SparsifyPass().apply(make_context(), module)
    text = print_module(module)
    assert "#sparse.csr" in text
    assert np.array_equal(interpret(parse_module(text), x)[0], expected[0])


def test_packed_module_round_trips_byte_for_byte():
    rng = np.random.default_rng(2)
    module = linear_module(rng.standard_normal((16, 32)).astype(np.float32))
    SparsifyPass("bcr", "8x4", 0.8).apply(make_context(), module)
    text = print_module(module)
    assert "dense_resource<fc.weight.values>" in text
    assert print_module(parse_module(text)) == text
    assert print_module(parse_module(print_module(module, generic=True))) == text


def test_interpreter_reports_bad_arrays_at_the_op():
    text = """
    func.func @main(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
      %indptr = nn.constant dense<[0, 2, 1]> : tensor<3xi32>
      %indices = nn.constant dense<[0, 1]> : tensor<2xi32>
      %values = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
      %w = sparse.assemble %indptr, %indices, %values : (tensor<3xi32>, tensor<2xi32>, tensor<2xf32>) -> tensor<2x2xf32, #sparse.csr>
      %y = nn.linear %x, %w : (tensor<1x2xf32>, tensor<2x2xf32, #sparse.csr>) -> tensor<1x2xf32>
      func.return %y : tensor<1x2xf32>
    }"""
    module = parse_module(text, "bad.mlir")
    with pytest.raises(Exception, match=r"bad.mlir:6:\d+: sparse.assemble: #sparse.csr: "
                                        "'indptr' must rise from 0 to 2"):
        interpret(module, np.ones((1, 2), np.float32))


def test_invalid_assemble_in_text_is_located():
    text = """
    %indptr = nn.constant dense<[0, 1, 2]> : tensor<3xi32>
    %w = sparse.assemble %indptr : (tensor<3xi32>) -> tensor<2x2xf32, #sparse.csr>"""
    with pytest.raises(SparsecError, match=r"<input>:3:\d+: error: sparse.assemble: "
                                           r"#sparse.csr stores 3 arrays"):
        parse_module(text)


# --- pruning details ------------------------------------------------------------------------


def test_bcr_rate_split():
    assert bcr_keep((8, 4), 0.8) == (3, 2)      # 6 of 32 kept: rate 0.8125
    assert bcr_keep((8, 4), 0.5) == (8, 2)      # 16 of 32: 4x4 and 8x2 tie; more rows
    assert bcr_keep((8, 4), 0.0) == (8, 4)
    assert bcr_keep((8, 4), 0.9) == (3, 1)
    assert bcr_keep((4, 4), 0.75) == (2, 2)
    assert bcr_keep((16, 16), 0.9) == (5, 5)    # 25 of 256 (not 13 x 2 = 26: rate < 0.9)
    assert bcr_keep((8, 16), 0.9) == (3, 4)     # 12 of 128, balanced (not 1 x 12 or 6 x 2)
    assert bcr_keep((8, 4), 0.99) == (1, 1)     # at least one weight per tile


def test_pattern_set_has_the_56_candidates_and_completes_a_small_model():
    assert len(ALL_PATTERNS) == 56 and all(4 in p for p in ALL_PATTERNS)
    w = np.zeros((1, 1, 3, 3))
    w[0, 0].flat[[0, 1, 2, 4]] = [3, 2, 1, 5]
    chosen = select_patterns([w], 3)
    assert (0, 1, 2, 4) in chosen and len(chosen) == 3 and list(chosen) == sorted(chosen)


# --- sparsec.prune (torch) --------------------------------------------------------------------


def test_public_names():
    assert sparsec.BCR is BCR and sparsec.Pattern is Pattern
    assert sparsec.BCR(block=(8, 4), rate=0.8) == BCR((8, 4), 0.8)
    assert callable(sparsec.prune)


def test_prune_a_torch_model_and_keep_zeros_through_fine_tuning():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(4, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 8, 1), torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 16))
    pruning = sparsec.prune(model, sparsec.Pattern(patterns=4, connectivity=2.0))
    assert set(pruning.masks) == {"0.weight", "2.weight", "4.weight"}
    assert isinstance(pruning.encodings["0.weight"], PatternAttr)
    assert isinstance(pruning.encodings["2.weight"], BCRAttr)
    for name, mask in pruning.masks.items():
        weight = dict(model.named_parameters())[name]
        assert torch.all(weight[~mask] == 0) and torch.all(weight[mask] != 0)
    kernels = pruning.masks["0.weight"].reshape(8, 4, 9)
    assert set(kernels.sum(-1).unique().tolist()) == {0, 4}
    assert int(kernels.any(-1).sum()) == 16  # 32 kernels / connectivity 2

    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, target = torch.randn(2, 4, 4, 4), torch.randn(2, 16)
    loss = torch.nn.functional.mse_loss(model(x), target)
    loss.backward()
    optimizer.step()
    weight = model[4].weight
    assert torch.any(weight[~pruning.masks["4.weight"]] != 0)  # the step revived zeros
    pruning.apply()
    assert torch.all(weight[~pruning.masks["4.weight"]] == 0)

    losses = pruning.finetune(lambda m, b: torch.nn.functional.mse_loss(m(b[0]), b[1]),
                              [(x, target)] * 2, optimizer, epochs=2)
    assert len(losses) == 2
    for name, sparsity in pruning.sparsity().items():
        assert sparsity >= 1 - pruning.masks[name].float().mean().item()


def test_prune_leaves_weights_the_block_does_not_divide():
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Linear(8, 8))
    pruning = sparsec.prune(model, sparsec.BCR(block=(8, 4), rate=0.5))
    assert set(pruning.masks) == {"1.weight"}  # conv: 8 x 27, 27 % 4 != 0
    assert torch.count_nonzero(model[0].weight) == 8 * 27


def test_torch_prune_and_the_pass_agree():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    model = torch.nn.Linear(16, 8, bias=False)
    module = linear_module(model.weight.detach().numpy().copy())
    sparsec.prune(model, sparsec.BCR(block=(4, 4), rate=0.6))
    SparsifyPass("bcr", "4x4", 0.6).apply(make_context(), module)
    x = np.random.default_rng(0).standard_normal((1, 16)).astype(np.float32)
    [y] = interpret(module, x)
    assert np.array_equal(y, x @ model.weight.detach().numpy().T)


def test_weights_entering_a_fusion_group_are_packed_and_interpret_the_same():
    text = """
    func.func @main(%x: tensor<1x8xf32>) -> tensor<1x4xf32> {
      %w = nn.constant dense_resource<fc.weight> : tensor<4x8xf32>
      %y = nn.fused %x, %w attributes {mapping = "many-to-many"} {
      ^bb0(%a: tensor<1x8xf32>, %b: tensor<4x8xf32>):
        %l = nn.linear %a, %b : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
        %r = nn.relu %l : (tensor<1x4xf32>) -> tensor<1x4xf32>
        nn.yield %r : tensor<1x4xf32>
      } : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
      func.return %y : tensor<1x4xf32>
    }"""
    rng = np.random.default_rng(3)
    weight = rng.standard_normal((4, 8)).astype(np.float32)
    text += f'\n{{-# dialect_resources: {{ builtin: {{ fc.weight: "{encode_blob(weight)}" }} }} #-}}'
    module = parse_module(text)
    SparsifyPass("bcr", "2x4", 0.5).apply(make_context(), module)
    packed = print_module(module)
    assert "^bb0(%a: tensor<1x8xf32>, %b: tensor<4x8xf32, #sparse.bcr<block = [2, 4]>>)" in packed
    masked = np.where(prune_weights({"w": weight}, BCR((2, 4), 0.5))["w"].mask, weight, 0)
    x = rng.standard_normal((1, 8)).astype(np.float32)
    expected = np.maximum(np.matmul(x, masked.T), 0)
    assert np.array_equal(interpret(parse_module(packed), x)[0], expected)


def test_pattern_fallback_moves_the_block_to_a_divisor_of_the_layer():
    # ResNet's 7x7 stem (GEMM view 64 x 147): 8x4 does not divide K = 147; 7 is the
    # nearest divisor above 4 within 2x
    assert fallback_block((8, 4), (64, 147)) == (8, 7)
    assert fallback_block((8, 4), (64, 256)) == (8, 4)
    assert fallback_block((8, 4), (10, 7)) == (10, 7)  # within 2x: widened
    assert fallback_block((8, 4), (34, 11)) == (2, 1)  # 17 and 11 are past 2x: narrowed
    rng = np.random.default_rng(0)
    weights = {"stem": rng.standard_normal((64, 3, 7, 7)),
               "conv": rng.standard_normal((8, 8, 3, 3))}
    pruned = prune_weights(weights, Pattern(8, 3.6))
    assert pruned["stem"].encoding == BCRAttr((8, 7))
    kept = np.count_nonzero(pruned["stem"].mask) / pruned["stem"].mask.size
    assert kept == pytest.approx(6 / 56)  # bcr_keep((8, 7), 1 - 4 / (9 * 3.6)) = 3 x 2
