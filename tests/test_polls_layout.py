"""The polls, survey and vote packages keep their shape: no SQL and no hand-written
rights check in the handlers, every command that needs a right says whose AG it is
about (dispatch checks it, bot/commands/rights.py decides), and no file grows past 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.app import build_registry
from bot.commands import Right
from handlers.polls import commands, export, results
from handlers.survey import commands as survey
from handlers.vote import commands as vote

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("handlers/polls", "handlers/survey", "handlers/vote", "storage/polls")
HANDLERS = PACKAGES[:3]
HAND_CHECKS = {"require", "allowed", "follows", "require_follows", "leads_any"}


def files(*places: str) -> list[Path]:
    found = [p for place in places for p in sorted((ROOT / place).glob("*.py"))]
    assert found, f"no Python files under {places}"
    return found


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", files(*HANDLERS), ids=name)
def test_the_handlers_import_no_sqlalchemy(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [m for m in imported if m.split(".")[0] == "sqlalchemy"]


@pytest.mark.parametrize("path", files(*HANDLERS), ids=name)
def test_the_handlers_check_no_right_by_hand(path: Path) -> None:
    """`rights.require/allowed/follows` and `ctx.is_admin` decide nothing here: the
    commands declare right and scope, and dispatch checks them."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [
        f"line {node.lineno}: {node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and (
            node.attr == "is_admin"
            or (
                node.attr in HAND_CHECKS
                and isinstance(node.value, ast.Name)
                and node.value.id == "rights"
            )
        )
    ]
    assert found == []


@pytest.mark.parametrize("path", files(*PACKAGES), ids=name)
def test_no_file_is_over_400_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400


def test_every_command_that_needs_a_right_names_its_ag() -> None:
    features = (commands.feature, results.feature, export.feature, vote.feature, survey.feature)
    ours = {cmd.name for feature in features for cmd in feature.unique()}
    assert ours >= {"poll", "close", "polls", "results", "export", "vote", "survey"}
    registry = build_registry()
    for cmd_name in sorted(ours):
        cmd = registry.commands[cmd_name]
        if cmd.right is not Right.ANYONE:
            assert cmd.scope is not None or cmd.ag_param is not None, cmd_name
    # Starting a question of the open /survey takes a lead: its scope says so.
    assert registry.commands["survey"].scope is not None
