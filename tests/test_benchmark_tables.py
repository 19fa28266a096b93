"""benchmarks/README.md and docs/results.md show the benchmark scripts' own tables (benchmarks/tables.py), never
numbers typed by hand."""

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
spec = importlib.util.spec_from_file_location("tables", BENCHMARKS / "tables.py")
tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tables)


@pytest.mark.parametrize("page", tables.PAGES, ids=lambda p: p.name)
def test_the_page_tables_are_the_results_files(page):
    text = page.read_text()
    assert text.count("<!-- end -->") >= 3
    assert tables.render(text) == text, "run python benchmarks/tables.py"


def test_a_block_is_filled_from_its_file_and_a_missing_file_is_named(tmp_path):
    (tmp_path / "x.md").write_text("### title\n\nMachine: m\n\n| a |\n|---|\n| 1 |\n")
    filled = tables.render("intro\n<!-- results/x.md -->\nold\n<!-- end -->\nafter\n", tmp_path)
    assert filled == "intro\n<!-- results/x.md -->\nMachine: m\n\n| a |\n|---|\n| 1 |\n<!-- end -->\nafter\n"
    with pytest.raises(SystemExit, match="names results/y.md"):
        tables.render("<!-- results/y.md -->\n<!-- end -->", tmp_path)
