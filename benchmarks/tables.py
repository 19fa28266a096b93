"""Write the tables of benchmarks/README.md and docs/results.md from benchmarks/results/*.md, the files the
benchmark scripts write.

Usage (from the repository root):
    python benchmarks/tables.py            # rewrite the generated blocks
    python benchmarks/tables.py --check    # exit 1 when a block differs from its results file (the test suite runs it)

A block is the lines between `<!-- results/NAME.md -->` and `<!-- end -->`; it receives results/NAME.md without its
title line (the prose above the block says what was measured), so no number in a table is typed by hand.
"""

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
PAGES = (HERE / "README.md", HERE.parent / "docs" / "results.md")
BLOCK = re.compile(r"(<!-- results/(?P<name>[\w.-]+\.md) -->\n)(?P<body>.*?)(<!-- end -->)", re.S)


def render(readme: str, results: Path = HERE / "results") -> str:
    """`readme` with every block filled from its results file."""

    def fill(match: re.Match) -> str:
        source = results / match["name"]
        if not source.is_file():
            raise SystemExit(f"A page names results/{match['name']}, which does not exist in {results}.")
        body = source.read_text().strip().split("\n", 1)[1].strip()  # drop the "### title" line
        return f"{match[1]}{body}\n{match[4]}"

    return BLOCK.sub(fill, readme)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a block is stale")
    args = parser.parse_args()
    for path in PAGES:
        current = path.read_text()
        fresh = render(current)
        if args.check and fresh != current:
            sys.exit(f"{path.name} is out of date with benchmarks/results/: run python benchmarks/tables.py")
        if not args.check:
            path.write_text(fresh)


if __name__ == "__main__":
    main()
