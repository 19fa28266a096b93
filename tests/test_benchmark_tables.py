"""benchmarks/README.md shows the benchmark scripts' own tables (benchmarks/tables.py), never numbers typed by hand."""

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
spec = importlib.util.spec_from_file_location("tables", BENCHMARKS / "tables.py")
tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tables)


def test_the_readme_tables_are_the_results_files():
    readme = (BENCHMARKS / "README.md").read_text()
    assert readme.count("<!-- end -->") >= 7
    assert tables.render(readme) == readme, "run python benchmarks/tables.py"


def test_a_block_is_filled_from_its_file_and_a_missing_file_is_named(tmp_path):
    (tmp_path / "x.md").write_text("### title\n\nMachine: m\n\n| a |\n|---|\n| 1 |\n")
    filled = tables.render("intro\n<!-- results/x.md -->\nold\n<!-- end -->\nafter\n", tmp_path)
    assert filled == "intro\n<!-- results/x.md -->\nMachine: m\n\n| a |\n|---|\n| 1 |\n<!-- end -->\nafter\n"
    with pytest.raises(SystemExit, match="results/y.md"):
        tables.render("<!-- results/y.md -->\n<!-- end -->", tmp_path)
