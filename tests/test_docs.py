"""The README is the page a volunteer admin reads first; everything else is in docs/. These
checks keep the two tied together: every link between them resolves (file and heading), the
README stays short and points to every page, and every setting is in the reference."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.config import ENV

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _prose(text: str) -> str:
    """The text without fenced code blocks or inline code, where brackets are not links."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def _anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {_anchor(m) for m in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def _broken(pages: list[Path], root: Path) -> list[str]:
    """Every relative link of `pages` whose file or heading does not exist."""
    broken = []
    for page in pages:
        for target in LINK.findall(_prose(page.read_text(encoding="utf-8"))):
            if re.match(r"[a-z]+:", target):
                continue  # https://, mailto:
            path, _, anchor = target.partition("#")
            goal = (page.parent / path).resolve() if path else page
            if not goal.exists():
                broken.append(f"{page.relative_to(root)}: {target} (no such file)")
            elif anchor and goal.suffix == ".md" and anchor not in _anchors(goal):
                broken.append(f"{page.relative_to(root)}: {target} (no such heading)")
    return broken


def test_every_link_between_the_readme_and_the_docs_resolves() -> None:
    assert _broken(PAGES, ROOT) == []


def test_the_anchor_of_a_heading_is_githubs() -> None:
    assert _anchor("The founding survey: `config/survey.toml`") == (
        "the-founding-survey-configsurveytoml"
    )
    assert _anchor("Leads' overview") == "leads-overview"
    assert _anchor("What `/disconnect` takes along") == "what-disconnect-takes-along"


def test_a_missing_page_or_heading_is_reported(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "b.md").write_text("# B\n\n## Second part\n")
    page = tmp_path / "README.md"
    page.write_text(
        "# A\n\n[ok](docs/b.md#second-part) [gone](docs/c.md) [wrong](docs/b.md#third)\n"
        "[self](#a) [away](https://example.org/x) `[code](nowhere.md)`\n"
        "```\n[block](nowhere.md)\n```\n"
    )
    assert _broken([page], tmp_path) == [
        "README.md: docs/c.md (no such file)",
        "README.md: docs/b.md#third (no such heading)",
    ]


def test_the_readme_is_short_and_points_to_every_docs_page() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 300
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in LINK.findall(_prose(text))}
    assert [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked] == []


def test_every_setting_is_in_the_configuration_reference() -> None:
    rows = [
        line
        for line in (DOCS / "configuration.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    ]

    def documented(key: str) -> str | None:
        section, _, name = key.rpartition(".")
        shown = f"`[{section}] {name}`" if section else f"`{key}`"
        return next((row for row in rows if row.startswith(f"| {shown} |")), None)

    example = tomllib.loads((ROOT / "config" / "buendnisbot.example.toml").read_text("utf-8"))
    keys = {"ags_file", "survey_file", "[chat_languages]"}
    for name, value in example.items():
        if isinstance(value, dict) and name != "chat_languages":
            keys |= {f"{name}.{key}" for key in value}
        elif name != "chat_languages":
            keys.add(name)
    missing = sorted(key for key in keys if key != "[chat_languages]" and not documented(key))
    assert missing == []
    assert any(row.startswith("| `[chat_languages]` |") for row in rows)
    without_env = sorted(key for key, env in ENV.items() if env not in (documented(key) or ""))
    assert without_env == []
