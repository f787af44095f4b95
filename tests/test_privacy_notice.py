"""/privacy names who is responsible, a contact, how long data is kept and the reader's
rights with the commands for them, all from the `[privacy]` settings; unset, it says the
operator has not filled them in."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import ConfigError, PrivacySettings, load_settings
from tests.support.fake import BotHarness

FILLED = PrivacySettings(
    controller="Bündnis Zukunft Revier e.V.",
    address="Musterstraße 1, 04109 Leipzig",
    email="datenschutz@example.org",
    retention="bis du /forget schreibst; Sicherungen 30 Tage",
    authority="Sächsische Datenschutz- und Transparenzbeauftragte",
)

RIGHTS = (
    "Deine Rechte: Auskunft – /mydata schickt dir alles, was ich über dich weiß, als Datei. "
    "Löschung – /forget löscht alles; deine Stimmen in laufenden Umfragen ziehe ich dann "
    "zurück, bei beendeten zählen sie weiter, aber ohne deinen Namen. Berichtigung – deine "
    "Visitenkarte änderst du mit /card, deine AGs mit /leave. Einschränkung und Widerspruch "
    "beim Verantwortlichen."
)


def configure(bot: BotHarness, privacy: PrivacySettings) -> None:
    services = bot.app.services
    services.settings = dataclasses.replace(services.settings, privacy=privacy)


async def test_unset_the_notice_says_the_operator_has_not_filled_it_in(bot: BotHarness) -> None:
    [reply] = await bot.dm("eve").say("eve", "/privacy")
    rows = reply.splitlines()
    assert rows[:2] == [
        "Datenschutz: was ich speichere und warum",
        "Wer für diese Daten verantwortlich ist, wie du ihn erreichst und wie lange sie "
        "gespeichert bleiben, hat der Betreiber dieses Bots noch nicht eingetragen.",
    ]
    assert rows[-2:] == [
        RIGHTS,
        "Beschweren kannst du dich bei einer Datenschutz-Aufsichtsbehörde.",
    ]


async def test_filled_in_it_names_controller_contact_retention_and_rights(
    bot: BotHarness,
) -> None:
    configure(bot, FILLED)
    [reply] = await bot.dm("eve").say("eve", "/datenschutz")
    rows = reply.splitlines()
    assert rows[:4] == [
        "Datenschutz: was ich speichere und warum",
        "Verantwortlich: Bündnis Zukunft Revier e.V.",
        "Anschrift: Musterstraße 1, 04109 Leipzig",
        "Kontakt für Datenschutzfragen: datenschutz@example.org",
    ]
    assert rows[-3:] == [
        "Speicherdauer: bis du /forget schreibst; Sicherungen 30 Tage",
        RIGHTS,
        "Beschweren kannst du dich bei einer Datenschutz-Aufsichtsbehörde, z. B. "
        "Sächsische Datenschutz- und Transparenzbeauftragte.",
    ]


async def test_a_missing_part_is_marked_not_made_up(bot: BotHarness) -> None:
    configure(bot, PrivacySettings(controller="Bündnis Zukunft Revier e.V."))
    [reply] = await bot.dm("eve").say("eve", "/privacy")
    rows = reply.splitlines()
    assert rows[1:4] == [
        "Verantwortlich: Bündnis Zukunft Revier e.V.",
        "Anschrift: noch nicht eingetragen",
        "Kontakt für Datenschutzfragen: noch nicht eingetragen",
    ]
    assert rows[-3] == "Speicherdauer: noch nicht eingetragen"


async def test_in_english(bot: BotHarness) -> None:
    configure(bot, dataclasses.replace(FILLED, authority=""))
    dm = bot.dm("eve")
    await dm.say("eve", "/lang en")
    [reply] = await dm.say("eve", "/privacy")
    rows = reply.splitlines()
    assert rows[1:4] == [
        "Responsible: Bündnis Zukunft Revier e.V.",
        "Address: Musterstraße 1, 04109 Leipzig",
        "Contact for data-protection questions: datenschutz@example.org",
    ]
    assert rows[-3:] == [
        "How long data is kept: bis du /forget schreibst; Sicherungen 30 Tage",
        "Your rights: access – /mydata sends you everything I know about you, as a file. "
        "Erasure – /forget deletes everything; your votes in running polls are then "
        "withdrawn, in closed ones they still count, but without your name. Rectification – "
        "change your business card with /card, your AGs with /leave. Restriction and "
        "objection: ask the person responsible.",
        "You may complain to a data-protection supervisory authority.",
    ]


def test_the_settings_come_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text(
        '[privacy]\ncontroller = "Bündnis e.V."\naddress = "Markt 1, 06108 Halle"\n'
        'email = "dsb@example.org"\nretention = "bis zum Austritt"\n',
        encoding="utf-8",
    )
    settings = load_settings(path, environ={"BUENDNISBOT_PRIVACY_AUTHORITY": "LfD Sachsen-Anhalt"})
    assert settings.privacy == PrivacySettings(
        controller="Bündnis e.V.",
        address="Markt 1, 06108 Halle",
        email="dsb@example.org",
        retention="bis zum Austritt",
        authority="LfD Sachsen-Anhalt",
    )
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    assert load_settings(empty, environ={}).privacy == PrivacySettings()


def test_a_broken_address_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text('[privacy]\nemail = "kein-mail"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"privacy.email \(BUENDNISBOT_PRIVACY_EMAIL\)"):
        load_settings(path, environ={})
