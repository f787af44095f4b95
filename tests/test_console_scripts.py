"""The console as a tool: a piped script is never cut off by the spam limit, and a console
started in any folder has the alliance's AGs and survey (issue 10)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from bot.config import PACKAGED_DEFAULTS, Settings, data_file, load_settings
from bot.core import Capabilities
from bot.transports.console import ConsoleTransport
from bot.transports.matrix import MatrixTransport
from bot.transports.telegram import TelegramTransport
from tests.support.console_run import FAILURES, clean_environ, run_console
from tests.support.fake import BotHarness, FakeTransport

ROOT = Path(__file__).resolve().parents[1]
CONSOLE = (sys.executable, "-m", "bot", "console")
SLOW_DOWN = "Langsam bitte – zu viele Befehle. Versuch es in einer Minute wieder."
AGS = "Die AGs des Bündnisses:"


def console_env(tmp_path: Path, config: str | None = None) -> dict[str, str]:
    """The bot's code from this checkout, its data in `tmp_path`; a settings file only if
    `config` is given (else none: the defaults, as for a first try)."""
    env = clean_environ(
        PYTHONPATH=str(ROOT),
        BUENDNISBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}",
        BUENDNISBOT_HEARTBEAT_FILE=str(tmp_path / "data" / "heartbeat"),
    )
    if config is not None:
        path = tmp_path / "bot.toml"
        path.write_text(config, encoding="utf-8")
        env["BUENDNISBOT_CONFIG"] = str(path)
    return env


# --- the rate limit is off on the console, on elsewhere --------------------------------

LIMITED = (
    f'ags_file = "{ROOT / "config" / "ags.toml"}"\n[limits]\ncommands_per_minute = 20\nburst = 5\n'
)


def test_sixty_piped_commands_get_sixty_real_answers(tmp_path: Path) -> None:
    env = console_env(tmp_path, LIMITED)
    settings = load_settings(Path(env["BUENDNISBOT_CONFIG"]), environ={})
    assert (settings.commands_per_minute, settings.command_burst) == (20, 5), "the limit is on"
    commands = ["/ags", "/join ag2", "/my", "/leave ag2", "/whoami", "/polls"] * 10

    messages = run_console(CONSOLE, "\n".join(commands) + "\n", env, tmp_path)

    assert len(messages) == 60
    texts = [text for _, text in messages]
    assert not [t for t in texts if any(f in t for f in FAILURES)]
    first_lines = [t.splitlines()[0] for t in texts]
    assert first_lines[0::6] == [AGS] * 10
    assert all(t.startswith("Willkommen in der AG") for t in first_lines[1::6])
    assert first_lines[2::6] == ["Deine AGs:"] * 10
    assert all(t.startswith("Du hast die AG") for t in first_lines[3::6])
    assert first_lines[4::6] == ["Deine Konto-Kennung: console:du"] * 10


async def test_the_dispatcher_limits_by_the_transports_capability(sqlite_url: str) -> None:
    script = FakeTransport(platform="script", capabilities=Capabilities(rate_limited=False))
    bot = await BotHarness.create(sqlite_url, more=(script,))
    services = bot.app.services
    services.settings = dataclasses.replace(
        services.settings, commands_per_minute=20, command_burst=5
    )
    try:
        limited = [r for _ in range(20) for r in await bot.group("g").say("mallory", "/ags")]
        free = [
            r
            for _ in range(20)
            for r in await bot.group("g", platform="script").say("mallory", "/ags")
        ]
    finally:
        await bot.close()

    assert [r.split("\n")[0] for r in limited] == [AGS] * 5 + [SLOW_DOWN]
    assert [r.split("\n")[0] for r in free] == [AGS] * 20


def test_only_the_console_goes_without_the_limit() -> None:
    assert ConsoleTransport.capabilities.rate_limited is False
    assert TelegramTransport.capabilities.rate_limited is True
    assert MatrixTransport.capabilities.rate_limited is True
    assert Capabilities().rate_limited is True, "a new transport is limited unless it says"


# --- AGs and survey wherever the console starts ------------------------------------------


@pytest.mark.parametrize("name", ["ags.toml", "survey.toml"])
def test_the_packaged_defaults_are_the_config_files(name: str) -> None:
    """One copy in the repository: bot/defaults/ links to config/ (the wheel gets files)."""
    packaged = PACKAGED_DEFAULTS / name
    assert packaged.is_symlink()
    assert packaged.resolve() == (ROOT / "config" / name).resolve()


def test_where_ags_and_survey_are_read_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")

    # Nothing here: what the bot was installed with.
    assert data_file("ags.toml") == PACKAGED_DEFAULTS / "ags.toml"
    assert load_settings(empty, environ={}).ags_file == PACKAGED_DEFAULTS / "ags.toml"
    assert Settings().survey_file == PACKAGED_DEFAULTS / "survey.toml"

    # A config/ folder where the bot starts: its files.
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "ags.toml").write_text("", encoding="utf-8")
    assert load_settings(empty, environ={}).ags_file == Path("config/ags.toml")
    assert load_settings(empty, environ={}).survey_file == PACKAGED_DEFAULTS / "survey.toml"

    # An explicit setting: that file, whatever else there is.
    explicit = tmp_path / "explicit.toml"
    explicit.write_text(f'ags_file = "{tmp_path / "mine.toml"}"\n', encoding="utf-8")
    assert load_settings(explicit, environ={}).ags_file == tmp_path / "mine.toml"


def test_a_console_started_elsewhere_has_the_ags_and_the_survey(tmp_path: Path) -> None:
    elsewhere = tmp_path / "somewhere"
    elsewhere.mkdir()

    messages = run_console(CONSOLE, "/ags\n/survey\n/join ag2\n", console_env(tmp_path), elsewhere)

    ags, survey, joined = (text for _, text in messages)
    assert ags.splitlines()[0] == AGS
    assert "• ag2 Transparenz und Beteiligung – 0 Mitglieder" in ags.splitlines()
    assert survey.splitlines()[0] == "Der Gründungsfragebogen:"
    assert survey.splitlines()[1].startswith("1. interesse – ")
    assert joined.startswith("Willkommen in der AG Transparenz und Beteiligung (ag2)!")


def test_a_config_folder_where_the_console_starts_wins(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "ags.toml").write_text(
        '[[ag]]\nid = "ag9"\nname = "Eigene AG"\n', encoding="utf-8"
    )

    messages = run_console(CONSOLE, "/ags\n", console_env(tmp_path), tmp_path)

    [(_, ags)] = messages
    assert ags.splitlines()[1] == "• ag9 Eigene AG – 0 Mitglieder"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "de",
            "Es gibt noch keine AGs. Beim ersten Start legt der Bot die AGs aus der Datei {file} "
            "an. Admins legen AGs mit /ag new an, z. B. /ag new ag4 Energie -- Bürgerenergie im "
            "Revier.",
        ),
        (
            "en",
            "There are no AGs yet. On its first start the bot creates the AGs from the file "
            "{file}. Admins create AGs with /ag new, e.g. /ag new ag4 Energie -- Bürgerenergie "
            "im Revier.",
        ),
    ],
)
def test_an_empty_ag_list_says_where_ags_come_from(
    tmp_path: Path, language: str, expected: str
) -> None:
    empty = tmp_path / "ags.toml"
    empty.write_text("# no AGs yet\n", encoding="utf-8")
    env = console_env(
        tmp_path, f'ags_file = "{empty}"\nlanguage = "{language}"\nadmins = ["console:du"]\n'
    )

    messages = run_console(
        CONSOLE, "/ags\n/ag new ag4 Energie -- Bürgerenergie im Revier\n/ags\n", env, tmp_path
    )

    (_, before), _, (_, after) = messages
    assert before == expected.format(file=empty)
    assert "• ag4 Energie – 0 " in after
