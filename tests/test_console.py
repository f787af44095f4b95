"""`python -m bot console` driven by a script on stdin, as a person would try the bot."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.transports.console import ConsoleTransport
from tests.support.console_run import parse

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def console_env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "bot.toml"
    config.write_text(
        f'ags_file = "{ROOT / "config" / "ags.toml"}"\nadmins = ["console:anna"]\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUENDNISBOT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        BUENDNISBOT_CONFIG=str(config),
        BUENDNISBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}",
    )
    return env


def run_console(script: str, env: dict[str, str], cwd: Path) -> tuple[list[tuple[str, str]], str]:
    """The bot's messages as (chat, text) pairs, continuation lines joined back with \\n."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=script,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return parse(result.stdout), result.stderr


def test_a_scripted_session(console_env: dict[str, str], tmp_path: Path) -> None:
    script = "\n".join(
        [
            "/ags",
            "/join ag2",
            ":as ben",
            "/members ag2",
            ":in gruppe",
            ":as anna",
            "/link ag2",
            "/my",
        ]
    )

    messages, stderr = run_console(script + "\n", console_env, tmp_path)

    assert stderr == ""
    assert [chat for chat, _ in messages] == ["dm", "dm", "dm", "gruppe", "gruppe"]
    ags, joined, refused, linked, my = (text for _, text in messages)
    assert ags.splitlines()[0] == "Die AGs des Bündnisses:"
    assert "• ag2 Transparenz und Beteiligung – 0 Mitglieder" in ags.splitlines()
    assert ags.splitlines()[-1] == "Beitreten mit /join <AG>, z. B. /join ag2."
    assert joined.startswith("Willkommen in der AG Transparenz und Beteiligung (ag2)!")
    assert refused == (
        "Das sehen nur Mitglieder der AG „Transparenz und Beteiligung“. "
        "Mit /join ag2 kannst du beitreten."
    )
    assert linked == (
        "Dieser Chat gehört jetzt zur AG Transparenz und Beteiligung (ag2). "
        "Hier kann man mit /join beitreten."
    )
    assert my == "Du bist noch in keiner AG. /ags zeigt alle AGs, /join ag2 tritt einer bei."


def test_continuation_lines_are_indented(console_env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="/ags\n",
        cwd=tmp_path,
        env=console_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    first, *rest = result.stdout.splitlines()
    assert first == "[dm] bot: Die AGs des Bündnisses:"
    assert rest[0] == "    • ag1 Nachhaltige Dorfentwicklung – 0 Mitglieder"
    assert all(line.startswith("    ") for line in rest)
    assert result.returncode == 0


def test_a_second_run_finds_what_the_first_stored(
    console_env: dict[str, str], tmp_path: Path
) -> None:
    run_console("/join ag2\n:in gruppe\n:as anna\n/link ag2\n", console_env, tmp_path)

    messages, _ = run_console("/my\n:in gruppe\n/join\n", console_env, tmp_path)

    assert messages == [
        ("dm", "Deine AGs:\n• Transparenz und Beteiligung (ag2) – Mitglied"),
        ("gruppe", "Du bist schon in der AG Transparenz und Beteiligung (ag2)."),
    ]


def test_script_helpers_and_plain_text(console_env: dict[str, str], tmp_path: Path) -> None:
    script = "# a comment\n\nhallo\n:tanz\n:as\n/whoami\n"

    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=script,
        cwd=tmp_path,
        env=console_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "(Befehle beginnen mit /, z. B. /help)",
        "(Die Anweisung „:tanz“ kenne ich nicht; es gibt :as NAME, :in CHAT, :sleep SEKUNDEN)",
        "(Die Anweisung „:as“ kenne ich nicht; es gibt :as NAME, :in CHAT, :sleep SEKUNDEN)",
        "[dm] bot: Deine Konto-Kennung: console:du",
    ]


def test_the_console_hints_in_english(console_env: dict[str, str], tmp_path: Path) -> None:
    script = "hello\n:dance\n:sleep soon\n/whoami\n"

    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=script,
        cwd=tmp_path,
        env={**console_env, "BUENDNISBOT_LANGUAGE": "en"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "(commands start with /, e.g. /help)",
        "(I don't know the directive “:dance”; there are :as NAME, :in CHAT, :sleep SECONDS)",
        "(:sleep needs seconds, not “soon”)",
        "[dm] bot: Your account id: console:du",
    ]


@pytest.mark.parametrize(
    ("language", "greeting"),
    [
        ("de", "Bündnisbot – Konsole. /help zeigt die Befehle, Strg-D beendet."),
        ("en", "Bündnisbot – console. /help shows the commands, Ctrl-D ends."),
    ],
)
async def test_the_interactive_greeting_in_the_console_language(
    language: str, greeting: str
) -> None:
    out = io.StringIO()
    console = ConsoleTransport(
        language=language, stdin=io.StringIO(""), stdout=out, interactive=True
    )

    class Nobody:
        async def message(self, message: object) -> None:
            return None

    await console.start(Nobody())  # type: ignore[arg-type]
    await console.finished.wait()

    assert out.getvalue().splitlines()[0] == greeting
