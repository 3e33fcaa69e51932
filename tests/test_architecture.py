"""The package's layers: imports point down only, and no module imports itself in a circle.

Every import counts, also those inside functions. The layers, lowest first:
``errors`` (the exceptions, used everywhere), ``core`` (the maths, the settings and the one
training loop), ``data``, ``engines``, ``files``, ``show`` and ``face`` (the entry points).
A module may import its own layer and the layers this table allows it.
"""

import ast
import sys
from pathlib import Path

import neurona

PACKAGE = Path(neurona.__file__).parent
ALLOWED = {
    "errors": set(),
    "core": {"errors"},
    "data": {"errors"},
    "engines": {"errors", "core", "data"},
    "files": {"errors", "core", "data"},
    "show": {"errors", "core", "data", "files"},
    "face": {"errors", "core", "data", "engines", "files", "show"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["neurona", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules) -> set[str]:
    """The package's modules that ``name`` imports (the deepest known prefix of each)."""
    base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                root = ".".join(base[:len(base) - node.level + 1] + [node.module or ""]).strip(".")
            else:
                root = node.module or ""
            targets = [f"{root}.{a.name}" for a in node.names] + [root]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and target != "neurona":
                found.add(target)
    return found


def _graph():
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


#: The package root (the public API) and ``python -m neurona`` stand above the layers.
ENTRY_POINTS = {"neurona", "neurona.__main__"}


def _layer(module: str) -> str | None:
    if module in ENTRY_POINTS:
        return None
    return module.split(".")[1]


def test_every_module_belongs_to_a_layer():
    graph = _graph()
    loose = [m for m in graph if m not in ENTRY_POINTS and _layer(m) not in ALLOWED]
    assert not loose, f"modules outside the layers: {loose}"
    assert {_layer(m) for m in graph if m not in ENTRY_POINTS} == set(ALLOWED)


def test_imports_point_down_only():
    wrong = []
    for module, targets in _graph().items():
        layer = _layer(module)
        if layer is None:  # the package root is the public API: it may import any layer
            continue
        for target in targets:
            other = _layer(target)
            if other != layer and other not in ALLOWED[layer]:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports that point up or sideways:\n" + "\n".join(sorted(wrong))


def test_no_import_cycles():
    graph = _graph()
    index, low, stack, on, cycles = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_check_sees_a_wrong_arrow(tmp_path, monkeypatch):
    """The rule test itself: a core module importing the command line is caught."""
    fake = tmp_path / "neurona"
    (fake / "core").mkdir(parents=True)
    (fake / "face").mkdir()
    for p in (fake / "__init__.py", fake / "core" / "__init__.py", fake / "face" / "__init__.py"):
        p.write_text("")
    (fake / "core" / "bad.py").write_text("def f():\n    from ..face import cli\n")
    (fake / "face" / "cli.py").write_text("from ..core import bad\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    graph = _graph()
    assert graph["neurona.core.bad"] == {"neurona.face", "neurona.face.cli"}
    try:
        test_imports_point_down_only()
    except AssertionError as exc:
        assert "neurona.core.bad -> neurona.face.cli" in str(exc)
    else:
        raise AssertionError("the upward import was not reported")
    try:
        test_no_import_cycles()
    except AssertionError as exc:
        assert "neurona.core.bad" in str(exc)
    else:
        raise AssertionError("the cycle was not reported")
