"""Every module sits in one layer and imports only layers below it (docs/architecture.md, "Layers").

The walk reads the source with ``ast``, so imports inside functions (the lazy ones) count
as much as those at the top. A unit is a top-level surface package (``cli``, ...) or an
``app`` subpackage / module (``app.bench``, ``app.inference``); imports inside one unit
are free. Frameworks have fixed homes too: SQL in ``app.storage``, HTTP in ``app.api``
and ``deployments``, and no Ray in ``app.engines`` / ``app.metrics``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("app", "cli", "deployments", "tuning", "vid_diffusion_bench")

LAYERS = [  # lowest first; a unit may import units of lower layers only, never one of its own layer or above
    {"app", "app.config"},  # "app": the package root, which holds only __version__
    {"app.i18n"},  # message catalogs: errors carry translatable messages
    {"app.errors"},
    {"app.catalog", "app.user_config"},  # user_config: the `vid-bench config` file, validated by Settings
    {"app.engines", "app.metrics", "app.storage"},
    {"app.bench", "app.streaming", "app.analytics", "app.security", "app.inference"},
    {"app.federated"},  # a participant runs its tasks through app.bench's runner
    {"app.api"},
    {"deployments", "tuning"},  # surfaces, ordered among themselves: the SDK re-exports tuning,
    {"vid_diffusion_bench"},  # and the CLI starts deployments, runs tuning and uses the SDK's client
    {"cli"},
]
LEVEL = {unit: level for level, units in enumerate(LAYERS) for unit in units}

ROUTES = "app.api.routes"  # route modules are mounted by make_app (module app.api) and imported by nobody else
HOMES = {  # third-party package -> the only units that may import it
    "sqlalchemy": {"app.storage"},
    "fastapi": {"app.api", "deployments"},
    "starlette": {"app.api", "deployments"},
}
NO_RAY = {"app.engines", "app.metrics"}

# Known violations, each (importer module, imported module) with the reason; none today. A stale entry fails
# the test, so the list never hides a fixed import.
ALLOWED: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "app" and len(parts) > 1 else parts[0]


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, at any depth; ``from a import b`` names a.b when b is a module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((node.lineno, full if is_module(full) else base))
    return list(dict.fromkeys(found))  # 'from m import a, b' names m once


def is_route(module: str) -> bool:
    return module == ROUTES or module.startswith(ROUTES + ".")


def all_imports() -> list[tuple[str, int, str]]:
    """(importer module, line, imported module) over every source file of the project."""
    edges = []
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            module = module_name(path)
            edges += [(module, line, imported) for line, imported in imported_modules(path, module)]
    return edges


def violations() -> tuple[list[str], set[tuple[str, str]]]:
    """Each broken rule as one readable line, and the allowed pairs that were actually seen."""
    problems, seen_allowed = [], set()
    for importer, line, imported in all_imports():
        here, there, top = unit_of(importer), unit_of(imported), imported.split(".")[0]
        where = f"{importer}:{line} imports {imported}"
        if (importer, imported) in ALLOWED:
            seen_allowed.add((importer, imported))
            continue
        if here not in LEVEL:
            problems.append(f"{where}: {here} has no layer (add it to LAYERS and to docs/architecture.md)")
            continue
        if top in SOURCES:
            if is_route(imported) and not (importer == "app.api" or is_route(importer)):
                problems.append(f"{where}: route modules are imported only by make_app")
            if there == here:
                continue
            if there not in LEVEL:
                problems.append(f"{where}: {there} has no layer")
            elif LEVEL[there] >= LEVEL[here]:
                kind = "sideways" if LEVEL[there] == LEVEL[here] else "reversed"
                problems.append(f"{where}: {kind} ({here} is layer {LEVEL[here]}, {there} is layer {LEVEL[there]})")
        elif top in HOMES and here not in HOMES[top]:
            problems.append(f"{where}: {top} belongs in {sorted(HOMES[top])}")
        elif top == "ray" and here in NO_RAY:
            problems.append(f"{where}: {here} never imports Ray")
    return problems, seen_allowed


def test_every_import_goes_down_a_layer():
    problems, _ = violations()
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_no_stale_allowances():
    _, seen = violations()
    assert seen == ALLOWED, f"these allowances no longer match an import; delete them: {sorted(ALLOWED - seen)}"


def test_the_walk_sees_lazy_imports():
    """The walk is only as good as what it reads: a function-level import must be found."""
    edges = all_imports()
    assert ("app.api", "app.api.middleware") in {(a, b) for a, _, b in edges}  # imported inside a function
    assert len({a for a, _, _ in edges}) > 50
