"""Run `buendnisbot console` as a separate process with a script on stdin, as a person
would pipe one, and read back what the bot said."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

LINE = re.compile(r"^\[(?P<chat>[^\]]+)\] bot: (?P<text>.*)$")

# Answers that mean something went wrong (the dispatcher's apologies, the rate limit's
# notice, an unreadable survey), in German and English.
FAILURES = (
    "Da ist bei mir etwas schiefgegangen",
    "Something went wrong",
    "Datenbank ist gerade kurz nicht erreichbar",
    "Langsam bitte",
    "Slow down",
    "nicht lesbar",
    "Es gibt noch keine AGs",
    "kenne ich nicht",
    "Welche AG?",
    "dürfen nur",
)


def clean_environ(**extra: str) -> dict[str, str]:
    """This process's environment without any BUENDNISBOT_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUENDNISBOT_")}
    env.update(extra)
    return env


def parse(stdout: str) -> list[tuple[str, str]]:
    """The bot's messages as (chat, text) pairs, continuation lines joined back with \\n."""
    messages: list[tuple[str, str]] = []
    for line in stdout.splitlines():
        if match := LINE.match(line):
            messages.append((match["chat"], match["text"]))
        else:
            assert line.startswith("    "), f"neither a message nor a continuation: {line!r}"
            assert messages, "a continuation line before any message"
            chat, text = messages[-1]
            messages[-1] = (chat, text + "\n" + line[4:])
    return messages


def run_console(
    command: Sequence[str],
    script: str,
    env: Mapping[str, str],
    cwd: Path,
    *,
    timeout: float = 60,
) -> list[tuple[str, str]]:
    """Pipe `script` into `command` (ending in `console`); its messages, after checking
    that it ended well and logged nothing (the console logs warnings and errors only)."""
    result = subprocess.run(
        list(command),
        input=script,
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    return parse(result.stdout)
