"""``python -m handoff serve`` | ``create-user NAME --role agent --languages fi,sv``."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import select

from bot.language.names import SUPPORTED
from bot.secrets import SecretsError
from bot.settings import UnsafeSettings, get_settings
from handoff.models import ROLES, User


def create_user(args: argparse.Namespace) -> int:
    from handoff.db import Database
    from handoff.migrate import upgrade
    from handoff.security import hash_password

    languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
    unknown = [lang for lang in languages if lang not in SUPPORTED]
    if unknown or not languages:
        print(f"error: --languages takes a comma list of {','.join(SUPPORTED)}", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        print("error: the password needs at least 8 characters", file=sys.stderr)
        return 2
    db = Database.from_settings(get_settings())
    upgrade(db.engine)

    def add(session) -> bool:
        if session.scalar(select(User).where(User.username == args.name)):
            return False
        session.add(
            User(
                username=args.name,
                display_name=args.display_name or args.name,
                password_hash=hash_password(password),
                role=args.role,
                languages=",".join(languages),
                max_chats=args.max_chats,
            )
        )
        return True

    created = db.run(add)
    db.dispose()
    if not created:
        print(f"error: user {args.name} exists", file=sys.stderr)
        return 1
    print(f"created {args.role} {args.name} ({','.join(languages)})")
    return 0


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from handoff.app import create_app

    try:
        settings = get_settings()
        settings.check_exposure()  # refuse a non-loopback HOST with an empty or published secret
    except (UnsafeSettings, SecretsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(create_app(settings), host=settings.host, port=settings.hub_port, log_level="info")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff")
    sub = parser.add_subparsers(dest="command", required=True)
    user = sub.add_parser("create-user", help="create an agent, editor or admin")
    user.add_argument("name")
    user.add_argument("--role", choices=ROLES, default="agent")
    user.add_argument("--languages", default=",".join(SUPPORTED))
    user.add_argument("--max-chats", type=int, default=3)
    user.add_argument("--display-name")
    user.set_defaults(func=create_user)
    sub.add_parser("serve", help="run the hub").set_defaults(func=serve)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
