"""The OpenAPI document: served, valid OpenAPI 3.1, generated from the request models."""

from __future__ import annotations

from openapi_spec_validator import validate

from bot.api.app import ROUTES
from bot.api.schemas import TicketPatch
from tests.api.conftest import ApiClient


async def test_the_document_is_served_and_valid(api: ApiClient) -> None:
    status, document, _ = await api.get("/openapi.json", key="")
    assert status == 200
    validate(document)  # raises when it is not valid OpenAPI 3.1
    assert document["openapi"].startswith("3.1")
    operations = {
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    }
    assert operations == {(r.method, "/api/v1" + r.path) for r in ROUTES}
    patch = document["components"]["schemas"]["TicketPatch"]
    generated = TicketPatch.model_json_schema(ref_template="#/components/schemas/{model}")
    generated.pop("$defs")  # in the document they are components of their own
    assert patch == generated
    assert patch["additionalProperties"] is False  # unknown fields refused

    async with api.http.get(api.base + "/docs") as response:
        assert response.status == 200
        html = await response.text()
    assert "PATCH /api/v1/tickets/{number}" in html
    assert "<code>add_tags</code>" in html
