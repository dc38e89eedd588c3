"""The OpenAPI 3.1 document: complete, and true to what the API answers.

Schemathesis generates requests from the document (valid ones, and invalid ones in every
part of the request) and checks each answer: never a 5xx, a documented status and
content type, and a body that matches the documented schema.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.parameters import ParameterLocation

from pyproj_rpc.identity import Identity
from pyproj_rpc.rest import create_app
from pyproj_rpc.rest.app import PREFIX
from tests.conftest import Database
from tests.rest_support import RestServer, auth_headers, rest_settings
from tests.support import World

OPERATIONS = {
    ("post", "/{mentorId}/activate"): "activatePause",
    ("post", "/{mentorId}/lift"): "liftPause",
    ("post", "/{mentorId}/auto-expire"): "autoExpireForCertification",
    ("get", "/{mentorId}/status"): "getCurrentStatus",
    ("post", "/{mentorId}/reactivate"): "reactivateMentor",
    ("get", "/{mentorId}/history"): "getPauseHistory",
    ("get", "/paused"): "getPausedMentors",
    ("get", "/transitions"): "listTransitions",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def document(server: RestServer) -> dict[str, Any]:
    with server.client() as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_the_document_is_openapi_3_1_with_every_endpoint(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    assert document == schema.raw_schema
    operations = {
        (method, path.removeprefix(PREFIX)): operation["operationId"]
        for path, methods in document["paths"].items()
        if path.startswith(PREFIX)
        for method, operation in methods.items()
    }
    assert operations == OPERATIONS
    assert document["paths"]["/healthz"]["get"]["operationId"] == "health"


def test_every_operation_documents_its_errors_with_postgrests_body(
    document: dict[str, Any],
) -> None:
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for path, methods in document["paths"].items():
        for operation in methods.values():
            responses = operation["responses"]
            assert {"500", "503"} <= set(responses), path
            if path.startswith(PREFIX):
                assert "401" in responses, path
                assert operation["security"] == [{"supabaseJwt": []}]
            for status, response in responses.items():
                if status != "200":
                    assert response["content"]["application/json"]["schema"] == error
                    assert response["description"]
    writes = [
        document["paths"][f"{PREFIX}/{{mentorId}}/{name}"]["post"]
        for name in ("activate", "lift", "reactivate")
    ]
    for operation in writes:
        assert {"400", "401", "403", "404", "409", "422"} <= set(operation["responses"])
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["supabaseJwt"]["scheme"] == "bearer"


def test_request_bodies_refuse_unknown_fields_and_responses_are_camel_case(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    for name in ("ActivatePauseBody", "ReasonBody"):
        assert schemas[name]["additionalProperties"] is False
    assert schemas["ActivatePauseBody"]["required"] == ["reason"]
    assert {"openPause", "previousStatus", "statusSince"} <= set(
        schemas["TransitionResult"]["properties"]
    )
    assert set(schemas["ErrorBody"]["properties"]) == {"code", "message", "details", "hint"}


# -- property-based: requests generated from the document --------------------------------


@pytest.fixture(scope="module")
def callers(database: Database) -> dict[str, Any]:
    """Real mentors to aim at, and who may act on them."""
    with database.connect() as conn:
        org = World(conn).organization()
        coordinator = org.coordinator()
        mentors = [
            org.mentor(coordinators=(coordinator,), status=status)
            for status in ("active", "paused", "active")
        ]
        conn.commit()
    return {
        "mentors": [str(m.id) for m in mentors],
        "identities": [
            org.admin,
            coordinator,
            mentors[0].identity,
            Identity.service(),
            Identity.anon(),
        ],
    }


# The document does not depend on the database: load it from the app itself.
schema = schemathesis.openapi.from_dict(
    create_app(rest_settings("postgresql://unused@127.0.0.1/unused")).openapi()
)


@schema.parametrize()
@schema.given(who=st.integers(min_value=0, max_value=4), aim=st.integers(min_value=-1, max_value=2))
@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    phases=[Phase.generate, Phase.shrink],  # no explicit examples: they cannot pick a caller
)
def test_generated_requests_never_fail_and_every_answer_matches_the_document(
    case: schemathesis.Case, server: RestServer, callers: dict[str, Any], who: int, aim: int
) -> None:
    meta = case.meta
    headers = None
    if meta is None or not meta.is_negative_at(ParameterLocation.HEADER):
        headers = auth_headers(callers["identities"][who])
    valid = meta is None or not meta.generation.mode.is_negative
    if valid and aim >= 0 and "mentorId" in (case.path_parameters or {}):
        case.path_parameters["mentorId"] = callers["mentors"][aim]  # often a real mentor
    case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)


def test_docs_work_offline_every_asset_served_by_the_app(server: RestServer) -> None:
    with server.client() as client:
        page = client.get("/docs")
        assert page.status_code == 200
        sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert sources, page.text
        assert not [s for s in sources if "://" in s]  # nothing from a CDN
        assert "url: '/openapi.json'" in page.text
        kinds: dict[str, str] = {}
        for source in sources:
            asset = client.get(source)
            assert asset.status_code == 200, source
            kinds[source.rsplit("/", 1)[-1]] = asset.headers["content-type"].split(";")[0]
        assert client.get("/docs/nonsense.js").status_code == 404
        assert "SwaggerUIBundle" in client.get("/docs/swagger-ui-bundle.js").text
    assert kinds == {
        "swagger-ui-bundle.js": "application/javascript",
        "swagger-ui.css": "text/css",
        "favicon-32x32.png": "image/png",
    }
