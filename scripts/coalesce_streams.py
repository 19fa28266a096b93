"""Clean executed notebooks in place for the committed files (`make clean-notebooks` runs it after nbstripout).

Usage (from the repository root):
    python scripts/coalesce_streams.py notebooks/*.ipynb

Merges consecutive stream outputs and keeps what a terminal shows after carriage returns, as Jupyter renders them;
then drops progress (tqdm lines and widgets, the Trainer's HTML bars and log lines; results.json keeps the logs):
they are for the person watching a run, not for the committed file. Every other output stays the run's own.
"""

import argparse
import re

import nbformat

PROGRESS = re.compile(
    r"^.*(\d+%\|.*\|\s*\d+/\d+\s*\[.*\]|TqdmWarning: IProgress not found.*|from \.autonotebook.*"
    r"|\{'(loss|eval_loss|train_runtime)': .*\})\s*$"
)
WIDGET = "application/vnd.jupyter.widget-view+json"


def clean(nb: nbformat.NotebookNode) -> None:
    """Merge, resolve carriage returns and drop progress in every cell of `nb`."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        merged = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET in data or "<progress" in "".join(data.get("text/html", "")):
                continue
            last = merged[-1] if merged else None
            if out.output_type == "stream" and last and last.output_type == "stream" and last.name == out.name:
                last.text += out.text
            else:
                merged.append(out)
        for out in merged:
            if out.output_type == "stream":
                text = re.sub(r"[^\n]*\r(?=[^\n])", "", out.text)
                out.text = "".join(line for line in text.splitlines(True) if not PROGRESS.match(line))
        if cell.cell_type == "code":
            cell.outputs = [o for o in merged if o.output_type != "stream" or o.text]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", help="notebook files, rewritten in place")
    for path in parser.parse_args().notebooks:
        nb = nbformat.read(path, as_version=4)
        clean(nb)
        nbformat.write(nb, path)


if __name__ == "__main__":
    main()
