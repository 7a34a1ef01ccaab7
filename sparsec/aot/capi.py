"""The C entry points of an ahead-of-time model, as LLVM IR linked into the model's
object. They call only libc (fopen, fread, fgetc, fclose, malloc, posix_memalign, free,
memcpy):

    sc_model *sc_model_create(const char *weights_path, int *status);
    sc_model *sc_model_create_from_memory(const void *data, size_t size, int *status);
    int  sc_model_run(sc_model *model, const T0 *input0, ..., T *output0, ...);
    int  sc_model_run_buffers(sc_model *model, const void *const *inputs, void *const *outputs);
    void sc_model_destroy(sc_model *model);

`sc_model` is { weights, owned copy of the weights (freed by destroy, may be NULL),
workspace }. Create checks, in this order, the fields `weights_file` describes (magic;
version, header size and zero reserved bytes; byte count against the model's; model id;
length of the data; CRC-32) and stops at the first failure with its status code; it
reads exactly the header and the byte count it has validated, so a wrong, truncated or
corrupted file is an error code, never an out-of-bounds read. Run checks every pointer and the range of integer
inputs used as gather indices (what the JIT checks in Python), then calls the lowered
`@main(inputs..., outputs..., weights, workspace)`.

From memory, the weights are read in place when the payload (data + 64) is 64-byte
aligned (the caller keeps them alive until destroy), and copied otherwise: the kernels'
vector loads are only element-aligned, but aligned weights are faster.
"""

from __future__ import annotations

from dataclasses import dataclass

from .weights_file import HEADER_BYTES, MAGIC, VERSION, Status

MAIN = "sc.model_main"
"""The lowered `@main` renamed (internal linkage): C programs have their own main."""

API = ("sc_model_create", "sc_model_create_from_memory", "sc_model_run",
       "sc_model_run_buffers", "sc_model_destroy")
"""The only symbols the object exports."""

_INT_TYPES = {"<i8": ("i64", "s"), "<i4": ("i32", "s"), "<i2": ("i16", "s"),
              "|i1": ("i8", "s"), "<u8": ("i64", "u"), "<u4": ("i32", "u"),
              "<u2": ("i16", "u"), "|u1": ("i8", "u")}
"""numpy dtype of an index input -> (LLVM type, signedness)"""


@dataclass(frozen=True)
class ModelFacts:
    """What the C API needs to know about the lowered model."""

    inputs: list[dict]
    """abi entries: name, shape, dtype (numpy str)"""
    outputs: list[dict]
    weights_bytes: int
    workspace_bytes: int
    model_id: int
    index_bounds: dict[int, int]
    """input position -> exclusive upper bound of its values (gather indices)"""

    @staticmethod
    def from_abi(abi: dict, weights_bytes: int, model_id: int) -> ModelFacts:
        bounds = {int(k): int(v) for k, v in abi.get("index_bounds", {}).items()}
        return ModelFacts(abi["inputs"], abi["outputs"], weights_bytes,
                          abi["arena"]["bytes"], model_id, bounds)


def _status(code: Status) -> str:
    return str(int(code))


def _crc_table() -> str:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (0xEDB88320 ^ (c >> 1)) if c & 1 else c >> 1
        table.append(f"i32 {c - (1 << 32) if c >= 1 << 31 else c}")
    return f"[{', '.join(table)}]"


def _prelude(facts: ModelFacts) -> str:
    magic = int.from_bytes(MAGIC, "little")
    magic = magic - (1 << 64) if magic >= 1 << 63 else magic
    model_id = facts.model_id - (1 << 64) if facts.model_id >= 1 << 63 else facts.model_id
    return f"""
%sc.model = type {{ ptr, ptr, ptr }}
@sc.crc_table = internal unnamed_addr constant [256 x i32] {_crc_table()}
@sc.rb = private unnamed_addr constant [3 x i8] c"rb\\00"

declare ptr @fopen(ptr, ptr)
declare i64 @fread(ptr, i64, i64, ptr)
declare i32 @fgetc(ptr)
declare i32 @fclose(ptr)
declare ptr @malloc(i64)
declare void @free(ptr)
declare i32 @posix_memalign(ptr, i64, i64)
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
declare void @{MAIN}({", ".join(["ptr"] * (len(facts.inputs) + len(facts.outputs) + 2))})

define internal void @sc.set_status(ptr %status, i32 %code) {{
entry:
  %none = icmp eq ptr %status, null
  br i1 %none, label %done, label %store
store:
  store i32 %code, ptr %status, align 4
  br label %done
done:
  ret void
}}

; zlib's CRC-32 of n bytes: table-driven, one byte per step
define internal i32 @sc.crc32(ptr %data, i64 %n) {{
entry:
  %empty = icmp eq i64 %n, 0
  br i1 %empty, label %done, label %loop
loop:
  %i = phi i64 [0, %entry], [%next, %loop]
  %crc = phi i32 [-1, %entry], [%crc.next, %loop]
  %p = getelementptr inbounds i8, ptr %data, i64 %i
  %byte = load i8, ptr %p, align 1
  %b32 = zext i8 %byte to i32
  %x = xor i32 %crc, %b32
  %low = and i32 %x, 255
  %index = zext i32 %low to i64
  %tp = getelementptr inbounds [256 x i32], ptr @sc.crc_table, i64 0, i64 %index
  %t = load i32, ptr %tp, align 4
  %shifted = lshr i32 %crc, 8
  %crc.next = xor i32 %t, %shifted
  %next = add nuw i64 %i, 1
  %more = icmp ult i64 %next, %n
  br i1 %more, label %loop, label %done
done:
  %last = phi i32 [-1, %entry], [%crc.next, %loop]
  %result = xor i32 %last, -1
  ret i32 %result
}}

; the header's fields in checking order: magic, version, header size and zero reserved
; bytes, byte count, model id (64 bytes, read unaligned)
define internal i32 @sc.check_header(ptr %h) {{
entry:
  %magic = load i64, ptr %h, align 1
  %magic.ok = icmp eq i64 %magic, {magic}
  br i1 %magic.ok, label %version, label %bad.magic
bad.magic:
  ret i32 {_status(Status.BAD_MAGIC)}
version:
  %vp = getelementptr inbounds i8, ptr %h, i64 8
  %v = load i32, ptr %vp, align 1
  %hp = getelementptr inbounds i8, ptr %h, i64 12
  %hb = load i32, ptr %hp, align 1
  %v.ok = icmp eq i32 %v, {VERSION}
  %hb.ok = icmp eq i32 %hb, {HEADER_BYTES}
  %vh.ok = and i1 %v.ok, %hb.ok
  %r0p = getelementptr inbounds i8, ptr %h, i64 36
  %r0 = load i32, ptr %r0p, align 1
  %r1p = getelementptr inbounds i8, ptr %h, i64 40
  %r1 = load i64, ptr %r1p, align 1
  %r2p = getelementptr inbounds i8, ptr %h, i64 48
  %r2 = load i64, ptr %r2p, align 1
  %r3p = getelementptr inbounds i8, ptr %h, i64 56
  %r3 = load i64, ptr %r3p, align 1
  %r0w = zext i32 %r0 to i64
  %r01 = or i64 %r0w, %r1
  %r23 = or i64 %r2, %r3
  %reserved = or i64 %r01, %r23
  %reserved.ok = icmp eq i64 %reserved, 0
  %layout.ok = and i1 %vh.ok, %reserved.ok
  br i1 %layout.ok, label %size, label %bad.version
bad.version:
  ret i32 {_status(Status.BAD_VERSION)}
size:
  %sp = getelementptr inbounds i8, ptr %h, i64 16
  %s = load i64, ptr %sp, align 1
  %s.ok = icmp eq i64 %s, {facts.weights_bytes}
  br i1 %s.ok, label %model, label %bad.size
bad.size:
  ret i32 {_status(Status.SIZE_MISMATCH)}
model:
  %ip = getelementptr inbounds i8, ptr %h, i64 24
  %id = load i64, ptr %ip, align 1
  %id.ok = icmp eq i64 %id, {model_id}
  br i1 %id.ok, label %ok, label %bad.model
bad.model:
  ret i32 {_status(Status.MODEL_MISMATCH)}
ok:
  ret i32 0
}}

define internal i32 @sc.stored_crc(ptr %h) {{
entry:
  %p = getelementptr inbounds i8, ptr %h, i64 32
  %crc = load i32, ptr %p, align 1
  ret i32 %crc
}}

; a model reading `weights`, freeing `owned` (may be null) on destroy, with its workspace
define internal ptr @sc.new(ptr %weights, ptr %owned) {{
entry:
  %slot = alloca ptr, align 8
  %m = call ptr @malloc(i64 24)
  %m.null = icmp eq ptr %m, null
  br i1 %m.null, label %fail, label %workspace
workspace:
  %rc = call i32 @posix_memalign(ptr %slot, i64 64, i64 {max(64, facts.workspace_bytes)})
  %rc.ok = icmp eq i32 %rc, 0
  br i1 %rc.ok, label %done, label %fail.free
fail.free:
  call void @free(ptr %m)
  br label %fail
fail:
  ret ptr null
done:
  %arena = load ptr, ptr %slot, align 8
  %f0 = getelementptr inbounds %sc.model, ptr %m, i32 0, i32 0
  store ptr %weights, ptr %f0, align 8
  %f1 = getelementptr inbounds %sc.model, ptr %m, i32 0, i32 1
  store ptr %owned, ptr %f1, align 8
  %f2 = getelementptr inbounds %sc.model, ptr %m, i32 0, i32 2
  store ptr %arena, ptr %f2, align 8
  ret ptr %m
}}
"""


def _fail(label: str, code: Status | str, cleanup: str = "") -> str:
    value = code if isinstance(code, str) else _status(code)
    return (f"{label}:\n{cleanup}  call void @sc.set_status(ptr %status, i32 {value})\n"
            "  ret ptr null\n")


def _create_from_memory(facts: ModelFacts) -> str:
    w = facts.weights_bytes
    free = "  call void @free(ptr %buffer)\n"
    return f"""
define ptr @sc_model_create_from_memory(ptr %data, i64 %size, ptr %status) {{
entry:
  %slot = alloca ptr, align 8
  %none = icmp eq ptr %data, null
  br i1 %none, label %e.null, label %header
header:
  %short = icmp ult i64 %size, {HEADER_BYTES}
  br i1 %short, label %e.truncated, label %check
check:
  %code = call i32 @sc.check_header(ptr %data)
  %bad = icmp ne i32 %code, 0
  br i1 %bad, label %e.code, label %length
length:
  %body = sub i64 %size, {HEADER_BYTES}
  %lt = icmp ult i64 %body, {w}
  br i1 %lt, label %e.truncated, label %length.gt
length.gt:
  %gt = icmp ugt i64 %body, {w}
  br i1 %gt, label %e.trailing, label %crc
crc:
  %payload = getelementptr inbounds i8, ptr %data, i64 {HEADER_BYTES}
  %sum = call i32 @sc.crc32(ptr %payload, i64 {w})
  %want = call i32 @sc.stored_crc(ptr %data)
  %crc.ok = icmp eq i32 %sum, %want
  br i1 %crc.ok, label %align, label %e.checksum
align:
  %address = ptrtoint ptr %payload to i64
  %misaligned = and i64 %address, 63
  %aligned = icmp eq i64 %misaligned, 0
  br i1 %aligned, label %in.place, label %copy
in.place:
  %m = call ptr @sc.new(ptr %payload, ptr null)
  %m.null = icmp eq ptr %m, null
  br i1 %m.null, label %e.memory, label %ok
copy:
  %rc = call i32 @posix_memalign(ptr %slot, i64 64, i64 {max(64, w)})
  %rc.ok = icmp eq i32 %rc, 0
  br i1 %rc.ok, label %copy.do, label %e.memory
copy.do:
  %buffer = load ptr, ptr %slot, align 8
  call void @llvm.memcpy.p0.p0.i64(ptr %buffer, ptr %payload, i64 {w}, i1 false)
  %mc = call ptr @sc.new(ptr %buffer, ptr %buffer)
  %mc.null = icmp eq ptr %mc, null
  br i1 %mc.null, label %e.memory.free, label %ok.copy
ok:
  call void @sc.set_status(ptr %status, i32 0)
  ret ptr %m
ok.copy:
  call void @sc.set_status(ptr %status, i32 0)
  ret ptr %mc
{_fail("e.null", Status.NULL_ARGUMENT)}{_fail("e.truncated", Status.TRUNCATED)}\
{_fail("e.code", "%code")}{_fail("e.trailing", Status.TRAILING_DATA)}\
{_fail("e.checksum", Status.CHECKSUM)}{_fail("e.memory", Status.OUT_OF_MEMORY)}\
{_fail("e.memory.free", Status.OUT_OF_MEMORY, free)}}}
"""


def _create(facts: ModelFacts) -> str:
    w = facts.weights_bytes
    close = "  %closed.{0} = call i32 @fclose(ptr %file)\n"
    free = "  call void @free(ptr %buffer)\n"
    return f"""
define ptr @sc_model_create(ptr %path, ptr %status) {{
entry:
  %header = alloca [{HEADER_BYTES} x i8], align 8
  %slot = alloca ptr, align 8
  %none = icmp eq ptr %path, null
  br i1 %none, label %e.null, label %open
open:
  %file = call ptr @fopen(ptr %path, ptr @sc.rb)
  %file.null = icmp eq ptr %file, null
  br i1 %file.null, label %e.open, label %read.header
read.header:
  %n = call i64 @fread(ptr %header, i64 1, i64 {HEADER_BYTES}, ptr %file)
  %n.ok = icmp eq i64 %n, {HEADER_BYTES}
  br i1 %n.ok, label %check, label %e.truncated.header
check:
  %code = call i32 @sc.check_header(ptr %header)
  %bad = icmp ne i32 %code, 0
  br i1 %bad, label %e.code, label %allocate
allocate:
  %rc = call i32 @posix_memalign(ptr %slot, i64 64, i64 {max(64, w)})
  %rc.ok = icmp eq i32 %rc, 0
  br i1 %rc.ok, label %read.payload, label %e.memory.close
read.payload:
  %buffer = load ptr, ptr %slot, align 8
  %got = call i64 @fread(ptr %buffer, i64 1, i64 {w}, ptr %file)
  %got.ok = icmp eq i64 %got, {w}
  br i1 %got.ok, label %trailing, label %e.truncated.payload
trailing:
  %extra = call i32 @fgetc(ptr %file)
  %closed = call i32 @fclose(ptr %file)
  %eof = icmp eq i32 %extra, -1
  br i1 %eof, label %crc, label %e.trailing
crc:
  %sum = call i32 @sc.crc32(ptr %buffer, i64 {w})
  %want = call i32 @sc.stored_crc(ptr %header)
  %crc.ok = icmp eq i32 %sum, %want
  br i1 %crc.ok, label %wrap, label %e.checksum
wrap:
  %m = call ptr @sc.new(ptr %buffer, ptr %buffer)
  %m.null = icmp eq ptr %m, null
  br i1 %m.null, label %e.memory, label %ok
ok:
  call void @sc.set_status(ptr %status, i32 0)
  ret ptr %m
{_fail("e.null", Status.NULL_ARGUMENT)}{_fail("e.open", Status.OPEN)}\
{_fail("e.truncated.header", Status.TRUNCATED, close.format(1))}\
{_fail("e.code", "%code", close.format(2))}\
{_fail("e.memory.close", Status.OUT_OF_MEMORY, close.format(3))}\
{_fail("e.truncated.payload", Status.TRUNCATED, free + close.format(4))}\
{_fail("e.trailing", Status.TRAILING_DATA, free)}{_fail("e.checksum", Status.CHECKSUM, free)}\
{_fail("e.memory", Status.OUT_OF_MEMORY, free)}}}
"""


def _in_range(kind: tuple[str, str]) -> str:
    """@sc.in_range_<s|u><T>(p, n, bound): every one of the n values at p is in [0, bound).
    Values are widened to i64 (sign- or zero-extended) and compared unsigned, so a
    negative index is a huge one."""
    type, sign = kind
    wide = "%v" if type == "i64" else "%wide"
    extend = "" if type == "i64" else f"  %wide = {sign}ext {type} %v to i64\n"
    return f"""
define internal i1 @sc.in_range_{sign}{type}(ptr %p, i64 %n, i64 %bound) {{
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%next, %body]
  %more = icmp ult i64 %i, %n
  br i1 %more, label %body, label %ok
body:
  %q = getelementptr inbounds {type}, ptr %p, i64 %i
  %v = load {type}, ptr %q, align 1
{extend}  %next = add nuw i64 %i, 1
  %inside = icmp ult i64 {wide}, %bound
  br i1 %inside, label %loop, label %bad
ok:
  ret i1 true
bad:
  ret i1 false
}}
"""


def _count(entry: dict) -> int:
    count = 1
    for d in entry["shape"]:
        count *= int(d)
    return count


def _run(facts: ModelFacts) -> str:
    """sc_model_run_buffers: every pointer checked (model, both arrays, each element),
    index inputs range-checked, then @main; and sc_model_run, which packs its pointer
    arguments into the two arrays."""
    n_in, n_out = len(facts.inputs), len(facts.outputs)
    lines = ["define i32 @sc_model_run_buffers(ptr %model, ptr %inputs, ptr %outputs) {",
             "entry:", "  %model.null = icmp eq ptr %model, null",
             "  br i1 %model.null, label %e.null, label %check.0"]
    buffers: list[str] = []  # the loaded, checked input and output pointers, in order
    step = 0

    def guard(value: str) -> None:
        nonlocal step
        lines.append(f"  %null.{step} = icmp eq ptr {value}, null")
        lines.append(f"  br i1 %null.{step}, label %e.null, label %check.{step + 1}")
        step += 1
        lines.append(f"check.{step}:")

    lines.append("check.0:")
    for array, count in (("inputs", n_in), ("outputs", n_out)):
        if count == 0:
            continue
        guard(f"%{array}")
        for i in range(count):
            lines.append(f"  %{array}.p{i} = getelementptr inbounds ptr, ptr %{array}, i64 {i}")
            lines.append(f"  %{array}.{i} = load ptr, ptr %{array}.p{i}, align 8")
            guard(f"%{array}.{i}")
            buffers.append(f"%{array}.{i}")
    for position, bound in sorted(facts.index_bounds.items()):
        entry = facts.inputs[position]
        kind = _INT_TYPES.get(entry["dtype"])
        if kind is None:
            continue
        function = f"sc.in_range_{kind[1]}{kind[0]}"
        lines.append(f"  %range.{position} = call i1 @{function}(ptr %inputs.{position},"
                     f" i64 {_count(entry)}, i64 {bound})")
        lines.append(f"  br i1 %range.{position}, label %range.ok.{position}, label %e.range")
        lines.append(f"range.ok.{position}:")
    lines += ["  %wp = getelementptr inbounds %sc.model, ptr %model, i32 0, i32 0",
              "  %weights = load ptr, ptr %wp, align 8",
              "  %ap = getelementptr inbounds %sc.model, ptr %model, i32 0, i32 2",
              "  %workspace = load ptr, ptr %ap, align 8"]
    args = [f"ptr {name}" for name in buffers] + ["ptr %weights", "ptr %workspace"]
    lines += [f"  call void @{MAIN}({', '.join(args)})", "  ret i32 0",
              "e.null:", f"  ret i32 {_status(Status.NULL_ARGUMENT)}",
              "e.range:", f"  ret i32 {_status(Status.INPUT_RANGE)}", "}"]

    params = ["ptr %model"] + [f"ptr %in{i}" for i in range(n_in)] + \
             [f"ptr %out{i}" for i in range(n_out)]
    typed = [f"define i32 @sc_model_run({', '.join(params)}) {{", "entry:"]
    arrays = []
    for array, prefix, count in (("ins", "in", n_in), ("outs", "out", n_out)):
        if count == 0:
            arrays.append("ptr null")
            continue
        typed.append(f"  %{array} = alloca [{count} x ptr], align 8")
        for i in range(count):
            typed.append(f"  %{array}.{i} = getelementptr inbounds ptr, ptr %{array}, i64 {i}")
            typed.append(f"  store ptr %{prefix}{i}, ptr %{array}.{i}, align 8")
        arrays.append(f"ptr %{array}")
    typed += [f"  %r = call i32 @sc_model_run_buffers(ptr %model, {', '.join(arrays)})",
              "  ret i32 %r", "}"]
    return "\n" + "\n".join(lines) + "\n\n" + "\n".join(typed) + "\n"


_DESTROY = """
define void @sc_model_destroy(ptr %model) {
entry:
  %none = icmp eq ptr %model, null
  br i1 %none, label %done, label %free
free:
  %f1 = getelementptr inbounds %sc.model, ptr %model, i32 0, i32 1
  %owned = load ptr, ptr %f1, align 8
  call void @free(ptr %owned)
  %f2 = getelementptr inbounds %sc.model, ptr %model, i32 0, i32 2
  %workspace = load ptr, ptr %f2, align 8
  call void @free(ptr %workspace)
  call void @free(ptr %model)
  br label %done
done:
  ret void
}
"""


def capi_ir(facts: ModelFacts) -> str:
    """LLVM IR text of the C API for one model (linked with the model's IR, whose @main
    is renamed to `MAIN` first)."""
    ranges = sorted({_INT_TYPES[facts.inputs[p]["dtype"]] for p in facts.index_bounds
                     if facts.inputs[p]["dtype"] in _INT_TYPES})
    return (_prelude(facts) + "".join(_in_range(t) for t in ranges) + _create(facts)
            + _create_from_memory(facts) + _run(facts) + _DESTROY)
