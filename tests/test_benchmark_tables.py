"""benchmarks/README.md and docs/results.md show the benchmark scripts' own tables (scripts/tables.py), never
numbers typed by hand; README's results table agrees with the recipes' records."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
spec = importlib.util.spec_from_file_location("tables", SCRIPTS / "tables.py")
tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tables)


@pytest.mark.parametrize("page", tables.PAGES, ids=lambda p: p.name)
def test_the_page_tables_are_the_results_files(page):
    text = page.read_text()
    assert text.count("<!-- end -->") >= 3
    assert tables.render(text) == text, "run python scripts/tables.py"


def test_a_block_is_filled_from_its_file_and_a_missing_file_is_named(tmp_path):
    (tmp_path / "x.md").write_text("### title\n\nMachine: m\n\n| a |\n|---|\n| 1 |\n")
    filled = tables.render("intro\n<!-- results/x.md -->\nold\n<!-- end -->\nafter\n", tmp_path)
    assert filled == "intro\n<!-- results/x.md -->\nMachine: m\n\n| a |\n|---|\n| 1 |\n<!-- end -->\nafter\n"
    with pytest.raises(SystemExit, match="names results/y.md"):
        tables.render("<!-- results/y.md -->\n<!-- end -->", tmp_path)


def test_a_recipe_block_is_filled_from_its_record_and_a_missing_record_is_named(tmp_path):
    run = {"date": "2026-01-02", "environment": {"cpu": "AMD EPYC (2 cores, no AMX)"}}
    seeds = {seed: {**run, "metrics": {"test_accuracy": acc, "test_macro_f1": 0.5, "eval_accuracy": 0.7}}
             for seed, acc in (("42", 0.8), ("43", 0.9))}  # fmt: skip
    record = {"recipe": "x", "command": "xenc reproduce x", "flags": ["--model", "a", "--model", "b"], "seeds": seeds}
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "x.json").write_text(json.dumps(record))
    filled = tables.render("<!-- recipes: x -->\nold\n<!-- end -->\n", tmp_path)
    row = ("| `x` (b) | 0.8500 ± 0.0707 | macro_f1 0.5000 ± 0.0000 | 0.7000 | 42, 43 | not recorded | 2026-01-02 "
           "| not recorded | AMD EPYC | `xenc reproduce x` |")  # fmt: skip
    assert filled.splitlines()[1].startswith("| recipe (base) | test accuracy, mean ± std |")
    assert filled.splitlines()[3] == row and filled.endswith("<!-- end -->\n")
    assert tables.cpu_name("Intel(R) Xeon(R) Processor (family 6 model 207; amx_bf16), 2 cores") == "Intel Xeon (AMX)"
    with pytest.raises(SystemExit, match=r"recipe y, but .*y\.json does not exist: record it with `xenc reproduce y"):
        tables.render("<!-- recipes: x y -->\n<!-- end -->", tmp_path)


def test_a_recipe_record_without_its_metric_is_named(tmp_path):
    seeds = {"42": {"date": "2026-01-02", "environment": {}, "metrics": {"test_accuracy": 0.8}}}  # no dev value
    (tmp_path / "recipes").mkdir()
    record = {"recipe": "x", "command": "c", "flags": [], "seeds": seeds}
    (tmp_path / "recipes" / "x.json").write_text(json.dumps(record))
    with pytest.raises(SystemExit, match=r"x\.json: no test and dev value of .* record the recipe again"):
        tables.render("<!-- recipes: x -->\n<!-- end -->", tmp_path)


@pytest.mark.parametrize("record", sorted((tables.HERE / "results" / "recipes").glob("*.json")), ids=lambda p: p.stem)
def test_the_readme_shows_each_recorded_recipe_as_its_record_has_it(record):
    """README's results table is typed, so this holds it to the records: the row that names a recipe's command shows
    the recipe's test metric, mean ± std over its recorded seeds, as docs/results.md's generated rows do."""
    headline = tables.recipe_row(record)[1].split("|")[2].strip()
    rows = [line for line in (tables.ROOT / "README.md").read_text().splitlines() if line.startswith("| ")]
    named = [row for row in rows if f"`xenc reproduce {record.stem}`" in row or f"/ `{record.stem}`" in row]
    assert named, f"README's results table has no row for `xenc reproduce {record.stem}`"
    assert headline in named[0], f"README shows {record.stem} other than its record ({headline})"
