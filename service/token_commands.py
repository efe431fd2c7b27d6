"""The `token` and `sign-in-link` commands: credentials signed with the secret the service
verifies with, and never with a stray one.

Both say on stderr where the secret came from. A secret is created only where the service
has never run: when the data dir already holds a database, the service that made it has
a secret somewhere else (another data dir, or MEDIA_AUTH_SECRET), and a token signed with
a new one would be refused by it ("Signature verification failed").
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from service.auth import Scope, issue_token, subject_problem
from service.config import SECRET_FILE_NAME, Settings

DEFAULT_SCOPE = "media:read media:write"
DATABASE_FILE_NAME = "media.db"


class CommandRefused(Exception):
    """The command cannot do what was asked; its message is the sentence to print."""


@dataclass(frozen=True)
class SigningSecret:
    value: str
    source: str  # where it came from, as a sentence for stderr


def scope_problem(scope: str) -> str | None:
    """What makes a --scope value unusable, or None: each word must be a known scope."""
    words = scope.split()
    allowed = ", ".join(s.value for s in Scope)
    if not words:
        return f"names no scope; use one or more of: {allowed}"
    unknown = [word for word in words if word not in Scope._value2member_map_]
    if unknown:
        return f"names unknown scopes ({', '.join(unknown)}); use one or more of: {allowed}"
    return None


def _database_in(settings: Settings) -> Path | None:
    """The SQLite database of this data dir, if the service has made one there."""
    if settings.database_url is None:
        path = settings.data_dir / DATABASE_FILE_NAME
        return path if path.exists() else None
    prefix = "sqlite:///"
    if settings.database_url.startswith(prefix):
        path = Path(settings.database_url.removeprefix(prefix))
        return path if path.exists() else None
    return None


def signing_secret(settings: Settings, *, may_create: bool) -> SigningSecret:
    """MEDIA_AUTH_SECRET, or the data dir's secret file; a new file only where no database
    is, and only when `may_create`."""
    if settings.auth_secret:
        return SigningSecret(settings.auth_secret, "Signed with MEDIA_AUTH_SECRET.")
    path = (settings.data_dir / SECRET_FILE_NAME).resolve()
    existing = settings.resolved_auth_secret(create=False)
    if existing is not None:
        return SigningSecret(existing, f"Signed with the secret in {path}.")
    database = _database_in(settings)
    if database is not None:
        raise CommandRefused(
            f"There is no auth secret at {path}, but the database {database.resolve()} is "
            "there: the service that uses it signs with another secret, so a token signed "
            "with a new one would be refused. Run this where `serve` runs (./scripts/token "
            "and ./scripts/sign-in-link do, from any directory), or set MEDIA_DATA_DIR to "
            "its data dir or MEDIA_AUTH_SECRET to its secret."
        )
    if not may_create:
        raise CommandRefused(
            f"There is no auth secret at {path} and no database beside it: the service has "
            "not run with this data dir. Start it (./scripts/serve), or set MEDIA_DATA_DIR "
            "to the data dir it uses."
        )
    created = settings.resolved_auth_secret(create=True)
    assert created is not None
    return SigningSecret(
        created, f"Signed with a new secret, created at {path} (no service has run here yet)."
    )


def token_command(args: argparse.Namespace, settings: Settings) -> int:
    # The arguments first: a mistyped command must not create a secret.
    problems = [
        f"--sub {problem}." for problem in [subject_problem(args.sub)] if problem is not None
    ]
    problem = scope_problem(args.scope)
    if problem is not None:
        problems.append(f"--scope {problem}.")
    if args.ttl is not None and args.ttl <= 0:
        problems.append(
            f"--ttl must be a positive number of seconds ({args.ttl} given); "
            "leave it out for a token that does not expire."
        )
    if problems:
        for sentence in problems:
            print(sentence, file=sys.stderr)
        return 2
    secret = signing_secret(settings, may_create=True)
    print(secret.source, file=sys.stderr)
    print(
        issue_token(secret=secret.value, subject=args.sub, scope=args.scope, ttl_seconds=args.ttl)
    )
    return 0


def sign_in_link_command(args: argparse.Namespace, settings: Settings) -> int:
    from service.web.sign_in import SIGN_IN_HOURS, sign_in_url

    if args.url is not None and not args.url.startswith(("http://", "https://")):
        print(f"--url must start with http:// or https:// ({args.url!r} given).", file=sys.stderr)
        return 2
    secret = signing_secret(settings, may_create=False)
    print(secret.source, file=sys.stderr)
    print(
        f"This link signs you in for {SIGN_IN_HOURS} hours, as the one `serve` prints.",
        file=sys.stderr,
    )
    print(sign_in_url(args.host, args.port, secret=secret.value, base=args.url))
    return 0


def add_token_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = commands.add_parser("token", help="print a bearer token signed with the secret")
    token.add_argument("--sub", required=True, help="the user the token names")
    token.add_argument(
        "--scope",
        default=DEFAULT_SCOPE,
        help=f"space-separated, from {', '.join(s.value for s in Scope)}; "
        f'default "{DEFAULT_SCOPE}"',
    )
    token.add_argument(
        "--ttl", type=int, default=None, help="seconds until it expires (default: never)"
    )
    token.set_defaults(handler=token_command)

    link = commands.add_parser(
        "sign-in-link", help="print a fresh sign-in link for the library page"
    )
    link.add_argument("--host", default="127.0.0.1", help="as given to serve")
    link.add_argument("--port", type=int, default=8000, help="as given to serve")
    link.add_argument(
        "--url",
        default=None,
        help="the address browsers reach the service at, when not host:port "
        "(behind a proxy), e.g. https://media.example.org/",
    )
    link.set_defaults(handler=sign_in_link_command)
