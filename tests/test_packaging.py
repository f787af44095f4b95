"""What a user gets from `pip install .`: every module the shipped code imports is installed
by a runtime dependency (not only by the test extra), and the installed bot, started from
another folder, works as a whole (issue 10: "a fresh clone must start on any day").

`make run` once crashed on `import icalendar`: it was declared in the test extra only, so
the test suite never noticed. The first test reads the installed metadata; the install test
(`-m install`) builds a wheel into a throw-away virtualenv, as the Dockerfile does.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.console_run import FAILURES, clean_environ, run_console

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("bot", "handlers", "storage")
DISTRIBUTION = "buendnisbot"


# --- every imported distribution is a runtime dependency -------------------------------


def _is_type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:` (never true at run time)."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[str]:
    """The absolute module names imported anywhere below `node` (in functions too),
    leaving out what is imported only for the type checker."""
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        for child in node.orelse:
            yield from _imports(child)
        return
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        yield node.module
    for child in ast.iter_child_nodes(node):
        yield from _imports(child)


def third_party_imports() -> dict[str, list[Path]]:
    """Top-level module -> the shipped files importing it (stdlib and our own left out)."""
    found: dict[str, list[Path]] = {}
    for package in SHIPPED:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for module in _imports(tree):
                top = module.partition(".")[0]
                if top in sys.stdlib_module_names or top in SHIPPED:
                    continue
                files = found.setdefault(top, [])
                if path not in files:
                    files.append(path)
    return found


def _applies(requirement: Requirement, extras: frozenset[str]) -> bool:
    """Whether a requirement holds here when the distribution is installed with `extras`
    (`extra == ""` stands for "no extra")."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in {"", *extras})


def runtime_closure(name: str) -> set[str]:
    """`name` and everything `pip install name` (no extras) installs with it, following
    the extras each requirement names (`python-telegram-bot[rate-limiter,webhooks]`)."""
    closure: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [(canonicalize_name(name), frozenset())]
    while todo:
        dist, extras = todo.pop()
        if (dist, extras) in seen:
            continue
        seen.add((dist, extras))
        closure.add(dist)
        try:
            requirements = metadata.requires(dist) or []
        except metadata.PackageNotFoundError:
            continue  # declared for another platform or Python, not installed here
        for line in requirements:
            requirement = Requirement(line)
            if _applies(requirement, extras):
                wanted = frozenset(canonicalize_name(e) for e in requirement.extras)
                todo.append((canonicalize_name(requirement.name), wanted))
    return closure


def test_every_imported_distribution_is_a_runtime_dependency() -> None:
    installed_by = metadata.packages_distributions()
    runtime = runtime_closure(DISTRIBUTION)
    imports = third_party_imports()

    problems = []
    for module, files in sorted(imports.items()):
        where = ", ".join(str(f.relative_to(ROOT)) for f in files)
        dists = {canonicalize_name(d) for d in installed_by.get(module, [])}
        if not dists:
            problems.append(f"`import {module}` ({where}): no installed distribution provides it")
        elif not dists & runtime:
            problems.append(
                f"`import {module}` ({where}): {', '.join(sorted(dists))} is not installed by "
                f"`pip install {DISTRIBUTION}` (only by an extra?); add it to "
                "[project] dependencies in pyproject.toml"
            )
    assert not problems, "\n".join(problems)
    # The scan itself works: these are certainly imported and certainly runtime.
    assert {"sqlalchemy", "telegram", "nio", "icalendar"} <= imports.keys()


def test_the_installed_metadata_is_the_pyprojects() -> None:
    """The test above reads the installed metadata; after an edit of pyproject.toml it
    would check the old one. `pip install -e .` (or `make install`) brings it up to date."""
    with (ROOT / "pyproject.toml").open("rb") as fh:
        project = tomllib.load(fh)["project"]
    declared = {str(Requirement(r)) for r in project["dependencies"]}
    for extra, requirements in project.get("optional-dependencies", {}).items():
        for line in requirements:
            requirement = Requirement(line)
            marker = f'extra == "{extra}"'
            if requirement.marker is not None:
                marker = f"({requirement.marker}) and {marker}"
            declared.add(str(Requirement(f"{str(requirement).split(';')[0]}; {marker}")))
    installed = {str(Requirement(r)) for r in metadata.requires(DISTRIBUTION) or []}

    assert installed == declared, (
        "the installed metadata of buendnisbot differs from pyproject.toml; "
        "run `.venv/bin/pip install --no-deps -e .`"
    )


def test_the_closure_follows_extras_and_skips_the_test_extra() -> None:
    runtime = runtime_closure(DISTRIBUTION)

    assert "aiolimiter" in runtime, "python-telegram-bot[rate-limiter] is followed"
    assert "tornado" in runtime, "python-telegram-bot[webhooks] is followed"
    assert "pytest" not in runtime, "the test extra is not part of a runtime install"
    assert "matrix-synapse" not in runtime


# --- the runtime install, as a user (and the Dockerfile) makes it -------------------------

SHIPPED_FILES = ("pyproject.toml", "constraints.txt", "README.md")
# bot/defaults/ links into config/, so the build needs it (as the Dockerfile copies it).
SHIPPED_DIRS = (*SHIPPED, "config")
POLL = re.compile(r"^Umfrage (?P<id>[a-z0-9]{4}) läuft in 1 Chat: gruppe \(Konsole\)\.")


def _run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _meeting_day(days: int) -> set[str]:
    """How the bot writes the day `days` from now at 18:00 (both sides of a midnight)."""
    now = datetime.now(ZoneInfo("Europe/Berlin"))
    days_ahead = {(now + timedelta(days=days, minutes=m)).date() for m in (-5, 5)}
    return {f"{format_date(d, 'EEEE, d. MMMM y', locale='de')}, 18:00 Uhr" for d in days_ahead}


@pytest.mark.install
@pytest.mark.timeout(600)
def test_the_runtime_install_works_from_any_folder(tmp_path: Path) -> None:
    """`pip install -c constraints.txt .` (not editable, no extras) into a new virtualenv,
    then the installed `buendnisbot` in a folder without the checkout: every feature area
    once through a piped console script, and `check-config`, `db upgrade`, `health`."""
    source = tmp_path / "src"
    source.mkdir()
    for name in SHIPPED_FILES:
        shutil.copy2(ROOT / name, source / name)
    for name in SHIPPED_DIRS:  # links kept, as docker's COPY keeps them
        shutil.copytree(
            ROOT / name,
            source / name,
            symlinks=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
    before = {p.name for p in ROOT.iterdir()}
    env = {k: v for k, v in clean_environ().items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], tmp_path, env)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "--upgrade", "pip"], source, env, timeout=300)
    _run([python, "-m", "pip", "install", "-c", "constraints.txt", "."], source, env, timeout=500)
    new = {p.name for p in ROOT.iterdir()} - before
    assert not {n for n in new if n == "build" or n.endswith(".egg-info")}, (
        "pip wrote into the checkout"
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data = tmp_path / "data"
    env.update(
        BUENDNISBOT_DATABASE_URL=f"sqlite+aiosqlite:///{data / 'bot.db'}",
        BUENDNISBOT_HEARTBEAT_FILE=str(data / "heartbeat"),
        BUENDNISBOT_ADMINS="console:du",
    )

    # The installed copy runs, with its package data, not the checkout's.
    found = json.loads(
        _run(
            [
                python,
                "-c",
                "import bot, storage, json; print(json.dumps([bot.__file__, storage.__file__]))",
            ],
            elsewhere,
            env,
        )
    )
    package = Path(found[0]).parent
    assert package.is_relative_to(venv), f"bot imported from {package}, not the new install"
    storage = Path(found[1]).parent
    assert {p.name for p in (storage / "migrations" / "versions").glob("*.py")} == {
        p.name for p in (ROOT / "storage" / "migrations" / "versions").glob("*.py")
    }, "every Alembic migration is installed"
    assert (storage / "migrations" / "env.py").is_file()
    assert (package / "locale" / "en" / "LC_MESSAGES" / "buendnisbot.po").is_file()
    for name in ("ags.toml", "survey.toml"):
        installed = package / "defaults" / name
        assert installed.is_file() and not installed.is_symlink(), f"{name}: a file, not a link"
        assert installed.read_bytes() == (ROOT / "config" / name).read_bytes()

    buendnisbot = venv / "bin" / "buendnisbot"
    assert _run([buendnisbot, "check-config"], elsewhere, env) == "configuration OK\n"
    assert _run([buendnisbot, "db", "upgrade"], elsewhere, env) == "database is up to date\n"

    # Two console runs on one database: the poll's id is known only after the first.
    first = run_console(
        [str(buendnisbot), "console"],
        "\n".join(
            [
                "/ags",
                "/join ag2",
                "/my",
                ":in gruppe",
                "/link ag2",
                ":in dm",
                '/poll "Wann treffen wir uns?" "Di 18 Uhr" "Mi 19 Uhr" --ag ag2',
            ]
        )
        + "\n",
        env,
        elsewhere,
    )
    ags, joined, my, linked, posted, launched = first
    assert ags[1].splitlines()[0] == "Die AGs des Bündnisses:"
    assert "• ag2 Transparenz und Beteiligung – 0 Mitglieder" in ags[1].splitlines()
    assert joined[1].startswith("Willkommen in der AG Transparenz und Beteiligung (ag2)!")
    assert my[1] == "Deine AGs:\n• Transparenz und Beteiligung (ag2) – Mitglied"
    assert linked == (
        "gruppe",
        "Dieser Chat gehört jetzt zur AG Transparenz und Beteiligung (ag2). "
        "Hier kann man mit /join beitreten.",
    )
    assert launched[0] == "dm"
    match = POLL.match(launched[1])
    assert match, launched
    poll = match["id"]
    assert posted[0] == "gruppe"
    assert posted[1].splitlines()[:4] == [
        f"Umfrage {poll}:",
        "Wann treffen wir uns?",
        "1. Di 18 Uhr",
        "2. Mi 19 Uhr",
    ]

    second = run_console(
        [str(buendnisbot), "console"],
        "\n".join(
            [
                ":in gruppe",
                "/vote 2",
                f"/results {poll}",
                ":in dm",
                f"/close {poll}",
                "/meeting ag2 in 3 Tagen 18 Uhr Plenum",
                "/ics ag2",
                "/card name Anna Beispiel",
                "/card region 3",
                "/card",
                "/survey",
                "/mydata",
                "/lang en",
                "/my",
            ]
        )
        + "\n",
        env,
        elsewhere,
    )
    texts = [text for _, text in second]
    assert not [t for t in texts for f in FAILURES if f in t]
    (
        voted,
        results,
        final_group,
        final_dm,
        meeting_dm,
        meeting_group,
        ics,
        card_name,
        card_region,
        card,
        survey,
        mydata,
        english,
        my_en,
    ) = second
    assert voted == ("gruppe", "Danke! Deine Stimme zählt: „Mi 19 Uhr“")
    assert results[1].splitlines()[0] == f"Zwischenstand: Wann treffen wir uns? ({poll})"
    assert "2. Mi 19 Uhr – 1 (100 %) ██████████" in results[1].splitlines()
    for chat, (where, final) in (("gruppe", final_group), ("dm", final_dm)):
        assert where == chat
        assert final.splitlines()[0] == f"Endergebnis: Wann treffen wir uns? ({poll})"
        assert "2. Mi 19 Uhr – 1 (100 %) ██████████" in final.splitlines()
    for chat, (where, meeting) in (("dm", meeting_dm), ("gruppe", meeting_group)):
        assert where == chat
        headline, day, ident = meeting.splitlines()[:3]
        assert headline == "📅 Neues Treffen der AG Transparenz und Beteiligung: Plenum"
        assert day in _meeting_day(3)
        assert ident == "Kennung: m1"
    assert ics[1].splitlines()[:2] == [
        "Hier kann ich keine Dateien schicken. Die Treffen als Liste:",
        "Die nächsten Treffen:",
    ]
    assert ics[1].splitlines()[2].startswith("• m1 ")
    assert ics[1].splitlines()[2].endswith(" 18:00 – Plenum (ag2)")
    assert card_name[1] == "Gespeichert. /card zeigt deine Visitenkarte."
    assert card_region[1] == "Gespeichert: Nordsachsen", "the regions of the packaged survey"
    assert card[1].splitlines()[:2] == ["Visitenkarte von Anna Beispiel", "Region: Nordsachsen"]
    assert survey[1].splitlines()[0] == "Der Gründungsfragebogen:"
    assert len([line for line in survey[1].splitlines() if re.match(r"\d\. ", line)]) == 6
    intro, _, document = mydata[1].partition("\n")
    assert intro.startswith("Alles, was ich über dich gespeichert habe.")
    stored = json.loads(document)
    assert [m["ag"] for m in stored["memberships"]] == ["ag2"]
    assert stored["card"]["name"] == "Anna Beispiel"
    assert [(v["poll"], v["answers"]) for v in stored["votes"]] == [(poll, ["Mi 19 Uhr"])]
    assert [m["title"] for m in stored["meetings_planned"]] == ["Plenum"]
    assert english[1] == "From now on I'll write to you in English.", "the catalogue is installed"
    assert my_en[1] == "Your AGs:\n• Transparenz und Beteiligung (ag2) – member"

    assert _run([buendnisbot, "health"], elsewhere, env) == "alive\n"
    assert not (elsewhere / "config").exists() and not (elsewhere / "data").exists()
