"""Regenerate docs/nn-dialect.md from the op classes (their docstrings are the spec).

    python scripts/gen_dialect_doc.py > docs/nn-dialect.md

tests/unit/test_docs.py fails when the committed file is out of date.
"""

import inspect

from sparsec.dialects import nn


def render() -> str:
    lines = [
        "# The nn dialect",
        "",
        "Generated from the op classes by `scripts/gen_dialect_doc.py`; do not edit by hand.",
        "",
        "Syntax: `%r = nn.op %a, %b {properties} : (operand types) -> result type`.",
        "Mapping types are DNNFusion's (Table 2); FLOPs count a multiply-add as 2 and every",
        "element-wise op as 1 per output element. A binary op is One-to-One when no operand",
        "broadcasts and One-to-Many when one does.",
        "",
        "| op | mapping type | algebra | distributes over | properties |",
        "|---|---|---|---|---|",
    ]
    for op in nn.OPERATORS:
        mapping = op.MAPPING.value if op.MAPPING else "one-to-one / one-to-many (broadcast)"
        algebra = ", ".join(f.name.lower() for f in nn.Algebra if f and f in op.ALGEBRA) or "-"
        dist = ", ".join(op.DISTRIBUTES_OVER) or "-"
        props = ", ".join(sorted(op.get_irdl_definition().properties)) or "-"
        lines.append(f"| `{op.name}` | {mapping} | {algebra} | {dist} | {props} |")
    lines += ["", "## Semantics", ""]
    for op in (*nn.OPERATORS, nn.ConstantOp, nn.FusedOp, nn.YieldOp):
        lines += [f"### `{op.name}`", "", inspect.cleandoc(op.__doc__ or ""), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
