"""The layout holds (issue 12): one test per rule, each listing its offenders.

- handlers/ import no sqlalchemy: SQL lives in storage/;
- nothing probes a transport with `getattr`: abilities are members of the protocol;
- no Python file over 400 lines;
- no import cycle, not even under TYPE_CHECKING or inside a function, unless the import
  line says why (`# cycle: <why>`);
- every command and button that needs an AG's right says where the AG comes from;
- no hand-written role check in handlers/: rights are decided in bot/commands/rights.py.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from bot.app import build_registry
from bot.commands import Right

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage", "tests", "benchmarks")
MAX_LINES = 400
CYCLE_NOTE = "# cycle:"


def python_files(*places: str) -> list[Path]:
    return sorted(path for place in places for path in (ROOT / place).rglob("*.py"))


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT))


@cache
def tree_of(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def report(what: str, offenders: list[str]) -> str:
    return f"{what} ({len(offenders)}):\n  " + "\n  ".join(offenders)


# --- (a) handlers/ import no sqlalchemy ----------------------------------------------------


def sqlalchemy_imports(tree: ast.AST) -> Iterator[int]:
    """Lines importing sqlalchemy anywhere in the module (also in functions and under
    TYPE_CHECKING: `ast.walk` sees every node)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(alias.name.split(".")[0] == "sqlalchemy" for alias in node.names):
                yield node.lineno
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] == "sqlalchemy"
        ):
            yield node.lineno


def test_sqlalchemy_imports_are_found_in_functions_and_under_type_checking() -> None:
    source = """
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
def f():
    import sqlalchemy as sa
from storage import sqlalchemy_free
"""
    assert list(sqlalchemy_imports(ast.parse(source))) == [4, 6]


def test_handlers_import_no_sqlalchemy() -> None:
    offenders = [
        f"{shown(path)}:{line}"
        for path in python_files("handlers")
        for line in sqlalchemy_imports(tree_of(path))
    ]
    assert not offenders, report(
        "handlers importing sqlalchemy (SQL belongs in storage/)", offenders
    )


# --- (b) no getattr probe of a transport ---------------------------------------------------


def names_a_transport(node: ast.expr) -> bool:
    """`transport`, `ctx.transport`, `self._transport`, `matrix_transport`, ..."""
    if isinstance(node, ast.Name):
        return node.id.lower().endswith("transport")
    if isinstance(node, ast.Attribute):
        return node.attr.lower().endswith("transport")
    return False


def transport_probes(tree: ast.AST) -> Iterator[int]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and node.args
            and names_a_transport(node.args[0])
        ):
            yield node.lineno


def test_transport_probes_are_found() -> None:
    source = """
getattr(transport, "send_poll", None)
getattr(ctx.transport, "command_prefix", "/")
getattr(self._matrix_transport, "x")
getattr(settings, "transport")
getattr(transports, "x")
"""
    assert list(transport_probes(ast.parse(source))) == [2, 3, 4]


def test_no_getattr_probe_of_a_transport() -> None:
    offenders = [
        f"{shown(path)}:{line}"
        for path in python_files("bot", "handlers", "storage")
        for line in transport_probes(tree_of(path))
    ]
    assert not offenders, report(
        "getattr on a transport (use a member of the Transport protocol)", offenders
    )


# --- (c) no file over 400 lines ------------------------------------------------------------


def test_no_python_file_over_400_lines() -> None:
    offenders = []
    for path in python_files(*PACKAGES):
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES:
            offenders.append(f"{shown(path)}: {count} lines")
    assert not offenders, report(f"files over {MAX_LINES} lines", offenders)


# --- (d) no import cycle -------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def project_modules() -> dict[str, Path]:
    return {module_name(path): path for path in python_files(*PACKAGES)}


def is_package(name: str) -> bool:
    return project_modules()[name].name == "__init__.py"


def resolve(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package(importer):
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported(importer: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The project modules an import statement makes `importer` depend on.

    `import a.b` is an edge to a.b; `from a import b` to a.b if that is a module, else to
    a. A package's `__init__` is an edge only when the package itself is named: the
    packages Python runs on the way to a submodule are not counted, so re-exports in an
    `__init__` do not tie every submodule to its siblings.
    """
    modules = project_modules()
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                yield name
        return
    base = resolve(importer, node)
    for alias in node.names:
        child = f"{base}.{alias.name}"
        if child in modules:
            yield child
        elif base in modules:
            yield base


def commented_lines(source: str) -> set[int]:
    """Lines that carry a `# cycle: <why>` comment."""
    found = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and token.string.startswith(CYCLE_NOTE):
            found.add(token.start[0])
    return found


Edge = tuple[str, str, str]  # importer, imported, where (file:line)


@cache
def import_edges() -> tuple[Edge, ...]:
    edges: list[Edge] = []
    for name, path in project_modules().items():
        excused = commented_lines(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree_of(path)):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            lines = set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
            if lines & excused:
                continue
            for target in sorted(set(imported(name, node))):
                if target != name:
                    edges.append((name, target, f"{shown(path)}:{node.lineno}"))
    return tuple(edges)


def cycles(edges: tuple[Edge, ...]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for source, target, _ in edges:
        graph.setdefault(source, set()).add(target)
        graph.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a long import chain cannot exceed the recursion limit.
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def describe(component: list[str], edges: tuple[Edge, ...]) -> str:
    members = set(component)
    inside = sorted(
        f"{source} -> {target} ({where})"
        for source, target, where in edges
        if source in members and target in members
    )
    return "cycle among " + ", ".join(component) + ":\n    " + "\n    ".join(inside)


def test_cycles_finds_a_cycle_and_leaves_a_chain() -> None:
    """The detector itself: a -> b -> c -> a is one cycle, d -> a is not part of it."""
    edges = (("a", "b", ""), ("b", "c", ""), ("c", "a", ""), ("d", "a", ""))
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles((("a", "b", ""), ("b", "c", ""))) == []


def test_a_cycle_comment_excuses_its_import_line_only() -> None:
    source = "import a  # cycle: a imports us back for its type hints\nimport b  # a cycle\n"
    assert commented_lines(source) == {1}


def test_imports_of_a_submodule_are_no_edge_to_its_package() -> None:
    edges = {(source, target) for source, target, _ in import_edges()}
    assert ("bot.commands.dispatch", "bot.commands.rights") in edges
    assert ("bot.commands.rights", "bot.commands") not in edges


def test_no_import_cycle() -> None:
    edges = import_edges()
    offenders = [describe(component, edges) for component in cycles(edges)]
    assert not offenders, report(
        f"import cycles (if one must stay, say why on its import line: `{CYCLE_NOTE} <why>`)",
        offenders,
    )


# --- (e) every AG right says where its AG comes from ---------------------------------------

AG_RIGHTS = (Right.FOLLOWER, Right.MEMBER, Right.LEAD)


def test_every_ag_right_has_an_ag_argument_or_a_scope() -> None:
    registry = build_registry()
    offenders = [
        f"command {cmd.name!r} ({cmd.right.name}): no AG parameter and no scope"
        for cmd in registry.unique()
        if cmd.right in AG_RIGHTS and cmd.ag_param is None and cmd.scope is None
    ]
    offenders += [
        f"button {prefix!r} ({right.name}): no scope"
        for prefix, (right, scope) in sorted(registry.button_rights.items())
        if right in AG_RIGHTS and scope is None
    ]
    assert not offenders, report("rights without the AG they are about", offenders)


# --- (f) no hand-written role check in handlers/ -------------------------------------------

ROLES_CHECKED = {"LEAD", "MEMBER"}


def is_role(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr in ROLES_CHECKED
        and isinstance(node.value, ast.Name)
        and node.value.id == "Role"
    )


def role_checks(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for part in ast.walk(node):
                if is_role(part):
                    assert isinstance(part, ast.Attribute)
                    yield part.lineno, f"compares with Role.{part.attr}"
        elif isinstance(node, ast.Attribute) and node.attr == "is_admin":
            yield node.lineno, ".is_admin"


def test_role_checks_are_found() -> None:
    source = """
if role is Role.LEAD: pass
ok = role in (Role.MEMBER, Role.LEAD)
if ctx.is_admin: pass
await repo.set_role(session, Role.LEAD)
if role == Role.LEAD.value: pass
"""
    assert sorted(set(role_checks(ast.parse(source)))) == [
        (2, "compares with Role.LEAD"),
        (3, "compares with Role.LEAD"),
        (3, "compares with Role.MEMBER"),
        (4, ".is_admin"),
        (6, "compares with Role.LEAD"),
    ]


def test_no_hand_written_role_check_in_handlers() -> None:
    offenders = [
        f"{shown(path)}:{line}: {what}"
        for path in python_files("handlers")
        for line, what in sorted(set(role_checks(tree_of(path))))
    ]
    assert not offenders, report(
        "role checks in handlers (declare right= and scope=; see bot/commands/rights.py)",
        offenders,
    )
