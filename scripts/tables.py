"""Write the tables of benchmarks/README.md and docs/results.md from the files that the benchmark scripts and
`xenc reproduce` record, so no number in a table is typed by hand.

Usage (from the repository root):
    python scripts/tables.py            # rewrite the generated blocks
    python scripts/tables.py --check    # exit 1 when a block differs from its results file (the test suite runs it)

Two kinds of block, each ending at `<!-- end -->`:
- `<!-- results/NAME.md -->` receives benchmarks/results/NAME.md without its title line (the prose above the block
  says what was measured);
- `<!-- recipes: NAME NAME ... -->` receives one row per recipe from benchmarks/results/recipes/NAME.json (written by
  `xenc reproduce NAME --record benchmarks/results/recipes`): the task's test metric as mean ± std over the recorded
  seeds, the dev mean, training time, dates, commits, CPU and command.
"""

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

from xenc.models import DEFAULT_MODEL  # the base of a recipe without --model

ROOT = Path(__file__).parent.parent
HERE = ROOT / "benchmarks"
PAGES = (HERE / "README.md", ROOT / "docs" / "results.md")
BLOCK = re.compile(r"(<!-- results/(?P<name>[\w.-]+\.md) -->\n)(?P<body>.*?)(<!-- end -->)", re.S)
RECIPE_BLOCK = re.compile(r"(<!-- recipes: (?P<names>[\w. -]+?) -->\n)(?P<body>.*?)(<!-- end -->)", re.S)
METRICS = ("spearman", "accuracy", "map")  # the headline metric of STS, NLI and answer selection
TIMES = (("train_runtime", ""), ("wall_time_s", " (wall)"))  # training time per seed, else the whole run's


def cpu_name(cpu: str) -> str:
    """'Intel Xeon (AMX)' or 'AMD EPYC' from a recorded environment's CPU string."""
    name = cpu.split(" (")[0].replace("(R)", "").replace(" Processor", "")
    return f"{name} (AMX)" if "amx_" in cpu else name


def mean_std(values: list[float]) -> str:
    """'mean ± std' over seeds (std with ddof=1, as `xenc reproduce` prints it), 4 decimals."""
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values) if len(values) > 1 else 0.0:.4f}"


def recipe_row(path: Path) -> tuple[str, str]:
    """(headline metric, table row) of the recipe record at `path`."""
    if not path.is_file():
        raise SystemExit(f"A page names recipe {path.stem}, but {path} does not exist: record it with `xenc reproduce "
                         f"{path.stem} --record {path.parent}`, or take {path.stem} out of the block.")  # fmt: skip
    record = json.loads(path.read_text())
    runs, flags = list(record["seeds"].values()), record["flags"]
    values = {k: [run["metrics"].get(k) for run in runs] for k in runs[0]["metrics"]}
    values = {k: v for k, v in values.items() if None not in v}  # the metrics every seed recorded
    key = next((k for k in METRICS if f"test_{k}" in values and f"eval_{k}" in values), None)
    if key is None:
        raise SystemExit(f"{path}: no test and dev value of {' / '.join(METRICS)} that every seed recorded; "
                         "record the recipe again with `xenc reproduce NAME --record DIR`.")  # fmt: skip
    test = f"test_{key}"
    others = "; ".join(f"{k[5:]} {mean_std(v)}" for k, v in values.items() if k.startswith("test_") and k != test)
    times = [f"{statistics.mean(values[k]):.0f}{note}" for k, note in TIMES if k in values] + ["not recorded"]
    model = flags[len(flags) - flags[::-1].index("--model")] if "--model" in flags else DEFAULT_MODEL
    copied = "; transcribed" if "transcribed_from" in record else ""  # typed from an older table, runs not kept
    dates = ", ".join(sorted({run["date"] for run in runs})) + copied
    envs = [run["environment"] for run in runs]
    commits = ", ".join(sorted({env.get("commit") or "not recorded" for env in envs}))
    cpus = ", ".join(sorted({cpu_name(env.get("cpu", "not recorded")) for env in envs}))
    cells = [f"`{record['recipe']}` ({model})", mean_std(values[test]), others or "none recorded",
             f"{statistics.mean(values[f'eval_{key}']):.4f}", ", ".join(record["seeds"]), times[0], dates, commits,
             cpus, f"`{record['command']}`"]  # fmt: skip
    return key, "| " + " | ".join(cells) + " |"


def recipe_table(names: list[str], records: Path) -> str:
    """The table of a `recipes:` block: one row per record `records/NAME.json`."""
    rows = [recipe_row(records / f"{name}.json") for name in names]
    key = " / ".join(dict.fromkeys(k for k, _ in rows))
    head = (f"| recipe (base) | test {key}, mean ± std | other test metrics | dev {key}, mean | seeds "
            "| training s / seed, mean | date | commit | CPU | command |")  # fmt: skip
    return "\n".join([head, "|---" * 10 + "|", *(row for _, row in rows)])


def render(readme: str, results: Path = HERE / "results") -> str:
    """`readme` with every block filled from its results file (recipe records: `results/recipes`)."""

    def fill(match: re.Match) -> str:
        source = results / match["name"]
        if not source.is_file():
            raise SystemExit(f"A page names results/{match['name']}, which does not exist in {results}.")
        body = source.read_text().strip().split("\n", 1)[1].strip()  # drop the "### title" line
        return f"{match[1]}{body}\n{match[4]}"

    def fill_recipes(match: re.Match) -> str:
        return f"{match[1]}{recipe_table(match['names'].split(), results / 'recipes')}\n{match[4]}"

    return BLOCK.sub(fill, RECIPE_BLOCK.sub(fill_recipes, readme))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a block is stale")
    args = parser.parse_args()
    for path in PAGES:
        current = path.read_text()
        fresh = render(current)
        if args.check and fresh != current:
            sys.exit(f"{path.name} is out of date with benchmarks/results/: run python scripts/tables.py")
        if not args.check:
            path.write_text(fresh)


if __name__ == "__main__":
    main()
