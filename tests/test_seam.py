"""The seam holds: handlers and storage know no network library, every command explains
itself, and every user-facing text is a literal German msgid with its placeholders filled."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build_registry
from bot.commands import Command
from bot.core import ChatRef, IncomingMessage, UserRef, well_formed
from bot.i18n import Translator

ROOT = Path(__file__).resolve().parents[1]
NETWORK_LIBRARIES = {"telegram", "nio"}
PLATFORM_NEUTRAL = ("handlers", "storage")
# Modules whose texts reach users: the handlers and the dispatcher's own answers.
SPEAKING = ("handlers", "bot/commands")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def python_files(*places: str) -> list[Path]:
    found: list[Path] = []
    for place in places:
        path = ROOT / place
        found += [path] if path.is_file() else sorted(path.rglob("*.py"))
    assert found, f"no Python files under {places}"
    return found


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def network_imports(source: str) -> list[str]:
    return [
        f"line {line}: {module}"
        for line, module in imported_modules(ast.parse(source))
        if module.split(".")[0] in NETWORK_LIBRARIES
    ]


# --- nothing under handlers/ or storage/ imports a network library ------------------------


@pytest.mark.parametrize(
    "path", python_files(*PLATFORM_NEUTRAL), ids=lambda p: str(p.relative_to(ROOT))
)
def test_platform_neutral_code_imports_no_network_library(path: Path) -> None:
    assert network_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "import telegram",
        "import nio.events as events",
        "from telegram.ext import Application",
        "from nio import AsyncClient",
        "import os, telegram.constants",
        "def f():\n    from telegram import Bot\n",
        "if TYPE_CHECKING:\n    import nio\n",
    ],
)
def test_the_guard_sees_every_form_of_import(source: str) -> None:
    assert network_imports(source), f"missed: {source!r}"


@pytest.mark.parametrize(
    "source", ["import telegramm", "from bot.transports import console", "from . import telegram"]
)
def test_the_guard_does_not_cry_wolf(source: str) -> None:
    assert network_imports(source) == []


# --- commands explain themselves -------------------------------------------------------------


def all_commands() -> list[Command]:
    return build_registry().unique()


def test_the_registry_has_the_commands_people_use() -> None:
    names = {cmd.name for cmd in all_commands()}
    assert {"join", "leave", "ags", "my", "members", "help", "start", "lang"} <= names
    assert {"ag new", "ag edit", "ag archive", "ag restore", "lead", "unlead"} <= names
    assert {"link", "unlink"} <= names


@pytest.mark.parametrize("cmd", all_commands(), ids=lambda c: c.name)
def test_every_command_has_help_in_every_language(cmd: Command) -> None:
    assert isinstance(cmd.help, str)
    assert cmd.help.strip()
    translator = Translator()
    for language in translator.languages:
        shown = translator.for_language(language).gettext(cmd.help)
        assert shown.strip()
        assert len(shown) <= 256, "Telegram's menu takes at most 256 characters"
    for param in cmd.params:
        assert isinstance(param.label, str)
        assert param.label.strip()


@pytest.mark.parametrize("cmd", all_commands(), ids=lambda c: c.name)
def test_every_example_is_a_call_of_its_own_command(cmd: Command) -> None:
    for example in cmd.examples:
        assert example.split()[: len(cmd.words)] == cmd.words


# --- every msgid is a literal German str ------------------------------------------------------


def call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def translation_calls() -> list[tuple[str, ast.Call]]:
    """Every `t(...)`, `tn(...)` and `N_(...)` in the modules that talk to people."""
    calls: list[tuple[str, ast.Call]] = []
    for path in python_files(*SPEAKING):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and call_name(node) in ("t", "tn", "N_"):
                calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return calls


def test_there_are_texts_to_check() -> None:
    assert len(translation_calls()) > 50


def test_every_msgid_is_a_string_literal() -> None:
    """pybabel extracts literals only; an f-string or a variable would never be translated."""
    bad = []
    for where, call in translation_calls():
        ids = call.args[:2] if call_name(call) == "tn" else call.args[:1]
        if not ids or not all(
            isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in ids
        ):
            bad.append(where)
    assert bad == []


def test_every_placeholder_of_a_msgid_gets_a_value() -> None:
    """A `{ag}` without `ag=` would reach the user as the raw text `{ag}`."""
    bad = []
    for where, call in translation_calls():
        if call_name(call) == "N_":  # marks a text only; it is filled where it is shown
            continue
        msgids = [a.value for a in call.args if isinstance(a, ast.Constant)]
        wanted = {p for msgid in msgids for p in PLACEHOLDER.findall(str(msgid))}
        given = {kw.arg for kw in call.keywords if kw.arg}
        if call_name(call) == "tn":
            given.add("n")
        if not wanted <= given:
            bad.append(f"{where}: missing {sorted(wanted - given)}")
        if given - wanted - {"n"}:
            bad.append(f"{where}: unused {sorted(given - wanted)}")
    assert bad == []


def test_text_from_the_networks_is_well_formed_unicode() -> None:
    pair = IncomingMessage(
        ChatRef("x", "1", title="\ud83d\ude00"), UserRef("x", "u", "a\ud800"), "j\udc00"
    )
    assert pair.chat.title == "\U0001f600"
    assert pair.sender.display_name == "a\ufffd"
    assert pair.text == "j\ufffd"
    plain = "schon gut ✓"
    assert well_formed(plain) is plain
