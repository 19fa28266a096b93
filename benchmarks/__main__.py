"""The benchmarks' one entry: `python benchmarks NAME [ARGS]` runs benchmarks/NAME.py with ARGS (its `--help` gives
them); `python benchmarks` lists every benchmark with the question it answers."""

import ast
import os
import re
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent
INTERNAL = {"__main__", "_bench", "backend_worker"}  # the entry, the shared module, bench_backends' worker process


def benchmarks() -> dict[str, str]:
    """Each script's name and the first sentence of its docstring."""
    paragraphs = {p.stem: ast.get_docstring(ast.parse(p.read_text())).split("\n\n")[0].replace("\n", " ")
                  for p in sorted(HERE.glob("*.py")) if p.stem not in INTERNAL}  # fmt: skip
    return {name: re.split(r"(?<=[.?])\s", text)[0] for name, text in paragraphs.items()}


def main() -> None:
    scripts = benchmarks()
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        width = max(map(len, scripts))
        print("usage: python benchmarks NAME [ARGS]   (python benchmarks NAME --help: its options)\n")
        print("\n".join(f"  {name:{width}}  {question}" for name, question in scripts.items()))
        return
    if sys.argv[1] not in scripts:
        print(f"python benchmarks: no benchmark {sys.argv[1]!r}; use one of {', '.join(scripts)}.", file=sys.stderr)
        sys.exit(2)
    sys.argv = [os.path.relpath(HERE / f"{sys.argv[1]}.py"), *sys.argv[2:]]  # as `python benchmarks/NAME.py` has it
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
