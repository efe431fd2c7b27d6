"""Bearer tokens (HS256 JWT) and the scopes that guard each route."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import StrEnum

import jwt

from service.errors import Forbidden, Unauthenticated
from service.text_rules import is_storable


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


# Tokens verified in this process, with their expiry: a client sends the same token on
# every request, and verifying it anew (HMAC, base64 and JSON) costs 40 µs each time.
_VERIFIED_MAX = 4096
_verified: dict[tuple[str, str], tuple[Principal, float]] = {}


def subject_problem(subject: str) -> str | None:
    """What makes `subject` unusable as a token's user, or None. It becomes `uploaded_by`:
    it must fit the column and be one line of valid Unicode text."""
    if not subject.strip():
        return "must be a non-empty string"
    if (
        len(subject) > MAX_SUBJECT
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in subject)
        or not is_storable(subject)
    ):
        return (
            f"must be at most {MAX_SUBJECT} characters of valid Unicode without control characters"
        )
    return None


def decode_token(token: str, *, secret: str) -> Principal:
    """Verify signature and expiry and read the claims; 401 for anything wrong.

    A token verified before with the same secret is not verified again until its
    expiry, which is checked on every use exactly as PyJWT checks it."""
    verified = _verified.get((token, secret))
    if verified is not None and time.time() < verified[1]:
        return verified[0]
    principal, expires = _verify(token, secret=secret)
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[(token, secret)] = (principal, expires)
    return principal


def _verify(token: str, *, secret: str) -> tuple[Principal, float]:
    """The principal and the time from which the token is expired (inf: never)."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The bearer token has expired.") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"The bearer token is not valid: {exc}.") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str):
        raise Unauthenticated("The bearer token's sub claim must be a non-empty string.")
    problem = subject_problem(subject)
    if problem is not None:
        raise Unauthenticated(f"The bearer token's sub claim {problem}.")
    scope_claim = claims.get("scope", "")
    if not isinstance(scope_claim, str):
        raise Unauthenticated("The bearer token's scope claim must be a space-separated string.")
    principal = Principal(subject=subject, scopes=effective_scopes(scope_claim))
    # PyJWT accepted `exp` as a number (or there is none): expired once now >= exp.
    expires = claims.get("exp")
    return principal, math.inf if expires is None else float(expires)


def issue_token(*, secret: str, subject: str, scope: str, ttl_seconds: int | None) -> str:
    claims: dict[str, object] = {"sub": subject, "scope": scope, "iat": int(time.time())}
    if ttl_seconds is not None:
        claims["exp"] = int(time.time()) + ttl_seconds
    return jwt.encode(claims, secret, algorithm="HS256")
