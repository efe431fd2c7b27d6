"""The `media-assets` command: serve the API, or print a token."""

from __future__ import annotations

import argparse
import sys

from service.auth import issue_token
from service.config import Settings

DEFAULT_SCOPE = "media:read media:write"


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service.app import create_app

    secret = settings.resolved_auth_secret(create=True)
    assert secret is not None
    token = issue_token(secret=secret, subject="admin", scope="media:admin", ttl_seconds=None)
    source = "MEDIA_AUTH_SECRET" if settings.auth_secret else str(settings.data_dir / "auth_secret")
    print(f"Auth secret from {source}.", flush=True)
    print(f"Admin token (sub=admin, scope=media:admin):\n  {token}", flush=True)
    print(f"API docs: http://{args.host}:{args.port}/docs", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    secret = settings.resolved_auth_secret(create=True)
    assert secret is not None
    if not args.sub.strip():
        print("--sub must not be empty", file=sys.stderr)
        return 2
    print(issue_token(secret=secret, subject=args.sub, scope=args.scope, ttl_seconds=args.ttl))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="media-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=_serve)

    token = commands.add_parser("token", help="print a bearer token signed with the secret")
    token.add_argument("--sub", required=True, help="the user the token names")
    token.add_argument("--scope", default=DEFAULT_SCOPE, help=f'default "{DEFAULT_SCOPE}"')
    token.add_argument("--ttl", type=int, default=None, help="seconds until it expires")
    token.set_defaults(handler=_token)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    result: int = handler(args, Settings())
    return result


if __name__ == "__main__":
    raise SystemExit(main())
