"""A schemathesis run over every operation in the OpenAPI schema, every check on, against
one app that also receives the malformed bodies of issue 11: no request may get a 5xx,
and every answer must be one the schema promises.

Each operation gets schemathesis' coverage cases (boundaries, each constraint broken,
missing headers, undeclared methods) and fuzzed cases, positive and negative. A rule the
service enforces must be in the schema, or positive_data_acceptance and
negative_data_rejection fail; the few rules a JSON Schema cannot state are listed in
INEXPRESSIBLE, each with the sentence the service answers it with.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis.strategies._internal.regex as hypothesis_regex
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from service.app import create_app
from service.config import Settings
from store.migrate import upgrade
from tests import malformed, samples
from tests.conftest import ADMIN, TEST_SECRET, bearer, make_token


def _build_each_regex_strategy_once() -> None:
    """Hypothesis builds a pattern's strategy afresh on each call, walking every character
    of every class. For the entity-id and file-name patterns (classes spanning Unicode)
    that is 1-2 s a call, and schemathesis calls it about 56 times while it makes its
    coverage cases at collection: 90 s of every run that collects this module, however
    few of its tests are selected. A strategy is immutable, so one per pattern serves all.
    """
    build = hypothesis_regex.base_regex_strategy
    built: dict[tuple[str, int, Any], Any] = {}

    def build_once(regex: Any, *, parsed: Any = None, alphabet: Any) -> Any:
        # The alphabet itself, not its repr (cut short for a long one): a strategy hashes
        # by identity, and hypothesis hands out one object per alphabet it caches.
        key = (regex.pattern, regex.flags, alphabet)
        if key not in built:
            built[key] = build(regex, parsed=parsed, alphabet=alphabet)
        return built[key]

    hypothesis_regex.base_regex_strategy = build_once


_build_each_regex_strategy_once()
# Schemathesis gives every operation's test one node id (pytest 9 keeps no `[GET /path]`
# suffix), and pytest-xdist runs one item per id: on a worker, 30 of the 31 operations
# would silently not run. scripts/test runs this module in its serial pass.
pytestmark = pytest.mark.serial
HEADERS = bearer(make_token(sub="fuzzer", scope=ADMIN))
# Fuzzed cases per operation, positive and negative together; with the coverage cases the
# run sends about 2,400 (test_the_run_was_large_enough... counts them).
MAX_EXAMPLES = 100
MIN_CASES = 2000
UNKNOWN_TAGS = "These tag ids name no tag:"
# Rules between two list parameters: `disjunctive_facets` must be a subset of `facets`,
# and untagged=true cannot come with tag_ids.
LIST_RULES = ("must also be asked for in `facets`", "cannot be combined with tag_ids")

# What an upload's file part can break that its schema cannot state.
FILE_NAME_AND_SIZE = ("is empty (0 bytes)", "characters long; a file name", "not UTF-8 text")

# Answers that schema-valid data may get for rules no JSON Schema can state, by operation
# and status, with words of the service's sentence for each rule. Everything else a
# positive case gets must be a 2xx, the 404 of a random id or the 409 of a taken name.
INEXPRESSIBLE: dict[tuple[str, str], dict[int, tuple[str, ...]]] = {
    # A type comes from `file_type` or else the name's extension, must be in
    # MEDIA_ALLOWED_TYPES (configuration), and must not contradict the other field. Tag
    # ids must name tags that exist.
    ("POST", "/api/media-assets"): {
        415: (" is not allowed; allowed types are",),
        422: (UNKNOWN_TAGS, "contradicts the extension"),
    },
    # The file's name is in the part's Content-Disposition, which the schema cannot
    # describe (nor its length or encoding), and its bytes must be what its extension
    # says: at least one byte, but for a CSV.
    ("POST", "/api/media-assets/upload"): {
        415: (" is not allowed; allowed types are", "does not match its", "SVG file is refused"),
        422: (UNKNOWN_TAGS, *FILE_NAME_AND_SIZE),
    },
    ("POST", "/api/media-assets/{asset_id}/upload"): {
        415: (" is not allowed; allowed types are", "does not match its", "SVG file is refused"),
        422: FILE_NAME_AND_SIZE,
    },
    # A new name may not end in a type outside MEDIA_ALLOWED_TYPES (configuration).
    ("PUT", "/api/media-assets/{asset_id}"): {
        422: (UNKNOWN_TAGS, "A file name may only end in an allowed type"),
    },
    ("POST", "/api/media-assets/{asset_id}/tags"): {422: (UNKNOWN_TAGS,)},
    ("DELETE", "/api/media-assets/{asset_id}/tags"): {422: (UNKNOWN_TAGS,)},
    ("GET", "/api/media-assets"): {422: LIST_RULES},
    # An entity's gallery takes the list's parameters, and their rules.
    ("GET", "/api/links/{entity_type}/{entity_id}/assets"): {422: LIST_RULES},
    # The same in a saved view's query, and the query's size as JSON.
    ("POST", "/api/views"): {422: (*LIST_RULES, "characters as JSON")},
    ("PUT", "/api/views/{view_id}"): {422: (*LIST_RULES, "characters as JSON")},
    # The same in a bulk change's query; and ids must name assets and tags that exist.
    ("POST", "/api/media-assets/bulk"): {
        422: (*LIST_RULES, UNKNOWN_TAGS, "These ids name no asset:"),
    },
}

# Schemathesis' defaults, and the statuses above for their operations only.
_POSITIVE_DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "headers": HEADERS,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES},
        # Every check is on by default; a response time limit is the one that needs a value.
        # Generous, for a loaded machine: it catches a hang, not a slow answer.
        "checks": {"max_response_time": 30},
        "operations": [
            {
                "include-method": method,
                "include-path": path,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": _POSITIVE_DEFAULT + [str(s) for s in statuses]
                    }
                },
            }
            for (method, path), statuses in INEXPRESSIBLE.items()
        ],
    }
)

# One app for the whole module: schemathesis needs it when the tests are collected, and
# its data dir is made and migrated only when the first test runs (the `served` fixture).
SETTINGS = Settings(
    data_dir=Path(tempfile.gettempdir()) / f"media-schemathesis-{uuid.uuid4().hex}",
    auth_secret=TEST_SECRET,
)
APP = create_app(SETTINGS)
# A copy: the app keeps serving its own document.
SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(APP.openapi()), config=CONFIG)
SCHEMA.app = APP
OPERATIONS = {
    f"{method.upper()} {path}" for path, item in APP.openapi()["paths"].items() for method in item
}
CASES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def served() -> Iterator[requests.Session]:
    """A client of the app, on the event loop schemathesis serves it from."""
    SETTINGS.data_dir.mkdir(parents=True)
    try:
        upgrade(SETTINGS.resolved_database_url)
        # FastAPI types its ASGI arguments as MutableMapping, schemathesis as dict.
        with asgi.get_client(APP) as client:  # type: ignore[arg-type]
            client.headers.update(HEADERS)
            yield client
    finally:
        asgi.shutdown_lifespans()
        shutil.rmtree(SETTINGS.data_dir, ignore_errors=True)


def _created(response: requests.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def _seed(client: requests.Session, seeds: dict[str, str], name: str) -> None:
    if name == "view_id":
        query = {"tag_ids": seeds["tag_id"], "facets": "tags"}
        view = _created(
            client.post("/api/views", json={"name": f"seed {uuid.uuid4().hex}", "query": query})
        )
        seeds["view_id"] = view["id"]
        return
    if name == "tag_id":
        tag = _created(client.post("/api/tags", json={"name": f"seed {uuid.uuid4().hex}"}))
        seeds["tag_id"] = tag["id"]
        return
    asset = _created(
        client.post(
            "/api/media-assets/upload",
            files={"file": ("wallet.png", samples.png(), "image/png")},
            data={"tag_ids": [seeds["tag_id"]]},
        )
    )
    seeds["asset_id"] = asset["id"]


@pytest.fixture
def existing(served: requests.Session) -> dict[str, str]:
    """A tag, an asset with a file and that tag, and a view of it, made afresh for each
    operation (and again after a case deleted one)."""
    seeds: dict[str, str] = {}
    _seed(served, seeds, "tag_id")
    _seed(served, seeds, "asset_id")
    _seed(served, seeds, "view_id")
    return seeds


def _serves(client: requests.Session) -> None:
    response = client.get("/api/tags", params={"limit": 1})
    assert response.status_code == 200, response.text


def test_malformed_bodies_get_a_4xx_with_a_sentence_and_the_app_keeps_serving(
    served: requests.Session, existing: dict[str, str]
) -> None:
    for raw in [
        *malformed.undecodable_bodies(existing["tag_id"], existing["asset_id"]),
        malformed.long_boundary_upload(),
    ]:
        response = served.request(
            raw.method, raw.path, data=raw.body, headers={"Content-Type": raw.content_type}
        )
        assert response.status_code == 422, (raw, response.text)
        assert response.json()["detail"][0]["msg"], response.text
        _serves(served)

    response = served.post(
        f"/api/media-assets/{existing['asset_id']}/tags",
        data=malformed.bare_tag_id_array(existing["tag_id"], 100_000),
        headers={"Content-Type": malformed.JSON},
    )
    assert response.status_code == 422, response.text[:300]
    assert response.json()["detail"][0]["msg"]
    _serves(served)

    # A generator body goes out chunked, without a Content-Length.
    response = served.post(
        "/api/media-assets/upload",
        data=malformed.many_empty_fields(),
        headers={"Content-Type": malformed.EMPTY_FIELDS_CONTENT_TYPE},
    )
    assert response.status_code == 422, response.text
    assert "at most" in response.json()["detail"][0]["msg"]
    _serves(served)


def _aim_at_existing(case: Any, existing: dict[str, str]) -> None:
    """Point half the cases with an id in the path at the seeded tag or asset, so that
    not every one is a 404. Ids that are not UUIDs (a negative case's) stay as drawn."""
    for name, value in case.path_parameters.items():
        if name not in existing or not isinstance(value, str):
            continue
        try:
            drawn = uuid.UUID(value)
        except ValueError:
            continue
        if drawn.int % 2:  # coverage cases all draw one id, with an odd last digit
            case.path_parameters[name] = existing[name]


def _check_inexpressible(case: Any, response: Any) -> None:
    """A status INEXPRESSIBLE lets schema-valid data get must come with its sentence:
    allowing the status must not hide a rule the schema could state."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    reasons = INEXPRESSIBLE.get((case.method.upper(), case.path), {}).get(response.status_code)
    if reasons is None:
        return
    detail = response.json()["detail"]
    said = detail if isinstance(detail, str) else " ".join(error["msg"] for error in detail)
    assert any(reason in said for reason in reasons), f"{case.method} {case.path}: {said}"


@SCHEMA.parametrize()
@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_one_the_schema_promises(
    case: Any, existing: dict[str, str], served: requests.Session
) -> None:
    _aim_at_existing(case, existing)
    CASES[case.operation.label] += 1
    response = case.call_and_validate()
    _check_inexpressible(case, response)
    if case.method == "DELETE" and response.status_code == 204:
        for name, value in case.path_parameters.items():
            if existing.get(name) == value:
                _seed(served, existing, name)


def test_the_run_was_large_enough_and_the_app_still_serves(served: requests.Session) -> None:
    if set(CASES) != OPERATIONS:
        pytest.skip("only part of the run was selected")
    print(f"\n{sum(CASES.values())} cases over {len(CASES)} operations: {dict(CASES)}")
    assert sum(CASES.values()) >= MIN_CASES, CASES
    assert served.get("/healthz").status_code == 200
    _serves(served)
