"""Bearer tokens (HS256 JWT) and the scopes that guard each route."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

import jwt

from service.errors import Forbidden, Unauthenticated


class Scope(StrEnum):
    READ = "media:read"
    WRITE = "media:write"
    ADMIN = "media:admin"


# What each granted scope implies: write implies read, admin implies both.
_IMPLIED: dict[Scope, frozenset[Scope]] = {
    Scope.READ: frozenset({Scope.READ}),
    Scope.WRITE: frozenset({Scope.READ, Scope.WRITE}),
    Scope.ADMIN: frozenset({Scope.READ, Scope.WRITE, Scope.ADMIN}),
}


MAX_SUBJECT = 255


@dataclass(frozen=True)
class Principal:
    """The caller a valid token names, with the scopes it effectively holds."""

    subject: str
    scopes: frozenset[Scope]

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"This token lacks the {scope.value} scope.")


def effective_scopes(scope_claim: str) -> frozenset[Scope]:
    granted: set[Scope] = set()
    for word in scope_claim.split():
        if word in Scope._value2member_map_:
            granted |= _IMPLIED[Scope(word)]
    return frozenset(granted)


def decode_token(token: str, *, secret: str) -> Principal:
    """Verify signature and expiry and read the claims; 401 for anything wrong."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The bearer token has expired.") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"The bearer token is not valid: {exc}.") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise Unauthenticated("The bearer token's sub claim must be a non-empty string.")
    if len(subject) > MAX_SUBJECT or any(ord(ch) < 32 or ord(ch) == 127 for ch in subject):
        # It becomes `uploaded_by`: it must fit the column and be one line of text.
        raise Unauthenticated(
            f"The bearer token's sub claim must be at most {MAX_SUBJECT} characters "
            "without control characters."
        )
    scope_claim = claims.get("scope", "")
    if not isinstance(scope_claim, str):
        raise Unauthenticated("The bearer token's scope claim must be a space-separated string.")
    return Principal(subject=subject, scopes=effective_scopes(scope_claim))


def issue_token(*, secret: str, subject: str, scope: str, ttl_seconds: int | None) -> str:
    claims: dict[str, object] = {"sub": subject, "scope": scope, "iat": int(time.time())}
    if ttl_seconds is not None:
        claims["exp"] = int(time.time()) + ttl_seconds
    return jwt.encode(claims, secret, algorithm="HS256")
