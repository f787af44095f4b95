"""The `buendnisbot` command: run (default), console, db upgrade, check-config, secret."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging


def _secrets(settings: Settings) -> list[str]:
    return settings.secret_values()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="buendnisbot", description="Bündnisbot")
    parser.add_argument("--config", type=Path, help="TOML file (default: config/buendnisbot.toml)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="start every configured transport (the default)")
    sub.add_parser("console", help="chat with the bot in this terminal, on the local database")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    sub.add_parser("check-config", help="read the configuration and report problems")
    sub.add_parser("health", help="exit 0 if a running bot wrote its heartbeat recently")
    sub.add_parser("secret", help="print a new random secret key (for secret_key)")
    alias = sub.add_parser("pseudonym", help="how the log names an account, chat or room")
    alias.add_argument(
        "id", help="platform:id, e.g. telegram:123456789 or matrix:@anna:example.org"
    )
    args = parser.parse_args(argv)

    if args.command == "secret":
        from handlers.polls.secret import new_key

        print(new_key())
        return 0
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"buendnisbot: configuration error: {exc}", file=sys.stderr)
        return 2
    command = args.command or "run"
    # The console prints the bot's replies on stdout; keep the log to warnings there.
    setup_logging(
        "WARNING" if command == "console" else settings.log_level,
        _secrets(settings),
        payloads=settings.log_payloads,
    )

    from bot.app import App, build_app

    if command == "health":
        from bot.app import is_alive

        alive = is_alive(settings.heartbeat_file)
        print("alive" if alive else f"no recent heartbeat in {settings.heartbeat_file}")
        return 0 if alive else 1
    if command == "pseudonym":
        return _pseudonym(settings, args.id)
    if command == "check-config":
        print("configuration OK")
        return 0
    if command == "db":
        app = App(settings, [])

        async def upgrade() -> None:
            try:
                await app.prepare_database()
            finally:
                await app.services.db.dispose()

        asyncio.run(upgrade())
        print("database is up to date")
        return 0
    from bot.single import AlreadyRunning, hold_single_lock
    from handlers.polls.secret import SecretKeyError

    try:
        # Only `run` (and the console, which runs the bot too) holds the SQLite lock.
        lock = hold_single_lock(settings.database_url)
    except AlreadyRunning as exc:
        print(f"buendnisbot: {exc}", file=sys.stderr)
        return 1
    if command == "run":
        from bot import stages

        stages.setup()  # benchmarks only: BUENDNISBOT_STAGE_LOG
    try:
        asyncio.run(build_app(settings, console=command == "console").run())
    except ConfigError as exc:
        print(f"buendnisbot: configuration error: {exc}", file=sys.stderr)
        return 2
    except SecretKeyError as exc:
        print(f"buendnisbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        if lock is not None:
            lock.close()
    return 0


def _pseudonym(settings: Settings, account: str) -> int:
    """Print the pseudonym the log uses for `platform:id`, to find one person's lines."""
    from bot.logs import pseudonym, use_pseudonym_key
    from handlers.polls.secret import read_key

    platform, _, external_id = account.partition(":")
    if not platform or not external_id:
        print("buendnisbot: give the id as platform:id, e.g. telegram:123456789", file=sys.stderr)
        return 2
    key = read_key(settings)
    if key is None:
        print(f"buendnisbot: no secret key yet ({settings.key_file})", file=sys.stderr)
        return 1
    use_pseudonym_key(key)
    print(pseudonym(platform, external_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
