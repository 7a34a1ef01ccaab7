"""Documentation that is derived from code stays in step with it."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dialect_reference_is_up_to_date():
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_dialect_doc.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    committed = (ROOT / "docs" / "nn-dialect.md").read_text()
    assert committed == gen.render(), ("docs/nn-dialect.md is stale: run "
                                       "python scripts/gen_dialect_doc.py > docs/nn-dialect.md")


def test_cli_doc_names_every_subcommand():
    from sparsec.tools.cli import build_parser

    text = (ROOT / "docs" / "cli.md").read_text()
    subcommands = build_parser()._subparsers._group_actions[0].choices
    for name in subcommands:
        assert f"sparsec {name}" in text, name
