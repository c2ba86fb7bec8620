"""The server package reads top-down, and its imports must agree: a front end (gRPC, HTTP,
khulasa-bulk) calls the service, the service runs the pipeline, the pipeline runs the models,
and everything may use the text utilities and the ground (errors, scope, logs, metrics). A
module that imports a floor above its own, a module on no floor, or a circle of imports fails
here, naming the import. CONTRIBUTING.md draws the same floors."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "server"
PACKAGE = "khulasa_server"

# Top to bottom; a module may import its own floor and the floors below it.
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("process", ("app", "entry")),
    ("front", ("grpc", "http", "bulk", "messages")),
    ("service", ("service",)),
    ("pipeline", ("pipeline",)),
    ("models", ("models",)),
    ("text", ("text",)),
    ("ground", ("", "errors", "scope", "logs", "metrics", "data")),
]
# Beside the floors: what is not the service (khulasa-models, eval, recipes). Tools may use any
# floor below the process; only the process's entry points and other tools import them.
TOOLS = "tools"
# What would tie the floors below the front ends to a wire format or a transport.
WIRE = (
    "grpc",
    "grpc_health",
    "grpc_reflection",
    "grpc_status",
    "google.protobuf",
    "google.rpc",
    "khulasa.v1",
    "starlette",
    "uvicorn",
    "ray",
)
# What the gRPC and HTTP front ends take from the pipeline: the records the service's operations
# take and give. The pipeline itself and the models they reach only through the service (one
# door for every front end, LibreTranslate's included); the text utilities and the ground they
# may use as anyone.
RECORDS = ("khulasa_server.pipeline.options", "khulasa_server.pipeline.results")


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts[-1].endswith(("_pb2", "_pb2_grpc")):
            continue
        found[".".join(parts)] = path
    return found


MODULES = modules()


@functools.cache  # each module read once for all the tests below
def imports(name: str) -> list[tuple[int, str]]:
    """(line, module) of every import of `name`, the package's own resolved to a module of
    MODULES (a name imported from a package is the submodule when there is one)."""
    path = MODULES[name]
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: len(name.split(".")) + (1 if is_package else 0) - node.level]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                found.append((node.lineno, full if full in MODULES else module))
    return found


def own(module: str) -> str | None:
    """The package's module an import names (its longest known prefix), or None for others."""
    while module and module not in MODULES:
        module = module.rpartition(".")[0]
    return module or None


def floor(name: str) -> int | None:
    """The floor index of a module (0 is the top), -1 for tools, None when it has no floor."""
    rest = name.removeprefix(PACKAGE).removeprefix(".")
    first = rest.split(".")[0]
    if first == TOOLS:
        return -1
    for index, (_, members) in enumerate(FLOORS):
        if first in members:
            return index
    return None


def test_every_module_has_a_floor():
    assert len(MODULES) > 50
    homeless = [name for name in MODULES if floor(name) is None]
    assert not homeless, f"modules on no floor (place them in FLOORS and CONTRIBUTING.md): {homeless}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_a_floor_above_its_own(name):
    here = floor(name)
    for line, target in imports(name):
        module = own(target)
        if module is None:
            continue
        there = floor(module)
        where = f"{MODULES[name].relative_to(ROOT)}:{line} imports {module}"
        if there == -1:
            assert here in (-1, 0), f"{where}: only the entry points and tools use tools/"
        elif here != -1:
            assert there is not None and there >= here, f"{where}, a floor above ({FLOORS[there][0]} over {FLOORS[here][0]})"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if (floor(n) or 0) >= 2))
def test_below_the_front_ends_no_wire_format(name):
    """The service and everything under it take and give plain values; the front ends map wires."""
    wired = sorted({t for _, t in imports(name) if any(t == w or t.startswith(w + ".") for w in WIRE)})
    assert not wired, f"{MODULES[name].relative_to(ROOT)} imports {wired}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.split(".")[1:2] in (["grpc"], ["http"])))
def test_the_network_front_ends_go_through_the_service(name):
    for line, target in imports(name):
        module = own(target)
        if module and floor(module) not in (None, -1) and floor(module) > 2:  # below the service
            where = f"{MODULES[name].relative_to(ROOT)}:{line} imports {module}"
            assert module in RECORDS or floor(module) >= len(FLOORS) - 2, f"{where}: call the service instead"


def test_no_circle_of_imports():
    graph = {name: {m for _, t in imports(name) if (m := own(t)) and m != name} for name in MODULES}
    # Tarjan's strongly connected components: any with two or more modules is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    assert not circles, f"circles of imports: {circles}"
