"""The house's shape: xenc's modules import each other without a cycle."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "xenc"


def imports_between_modules() -> dict[str, set[str]]:
    """module -> the xenc modules it imports (relative and absolute `from xenc...` imports, also inside
    functions; package re-exports left out)."""
    modules = {".".join(f.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): f
               for f in PACKAGE.rglob("*.py")}  # fmt: skip
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("xenc")):
                parts = package.split(".")
                module = [node.module] if node.module else []
                target = ".".join(parts[: len(parts) - node.level + 1] + module) if node.level else node.module
                found |= {t for t in (target, *(f"{target}.{a.name}" for a in node.names)) if t in modules}
        graph[name] = {t for t in found if t != name and not modules[t].name == "__init__.py"}
    return graph


def test_no_import_cycle():
    graph, state = imports_between_modules(), {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            assert state.get(nxt) != "open", f"import cycle: {' -> '.join(path[path.index(nxt) :] + [nxt])}"
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert len(graph) > 30 and graph["xenc.pipeline"] >= {"xenc.backends", "xenc.scoring"}
