"""The OpenAPI 3.1 document, generated from the route table and the pydantic models that
validate the requests (never written by hand)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from bot.api import schemas as s
from bot.api.problems import CONTENT_TYPE as PROBLEM
from bot.api.problems import KINDS

REF = "#/components/schemas/{model}"

_REASONS = {
    400: "Malformed request",
    413: "Body too large",
    401: "Missing or unknown API key",
    403: "The key lacks the scope",
    404: "Not found",
    409: "Conflict with the ticket's state",
    412: "Stale If-Match",
    422: "Invalid parameters or body (each error names its field)",
    429: "Rate limited (see Retry-After)",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _path_params(path: str) -> list[dict[str, Any]]:
    params = []
    for name in ("number", "telegram_id"):
        if "{" + name + "}" in path:
            params.append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
            )
    return params


def _query_params(model: type[s.Request], defs: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF, mode="validation")
    defs.update(schema.get("$defs", {}))
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema["properties"].items():
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k != "description"},
        }
        if "description" in prop:
            param["description"] = prop["description"]
        if name == "status":
            param["style"], param["explode"] = "form", True
        params.append(param)
    return params


def document() -> dict[str, Any]:
    from bot.api.app import PREFIX, ROUTES

    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(s.Problem, "serialization")]
    for route in ROUTES:
        models.append((route.response, "serialization"))
        if route.body is not None:
            models.append((route.body, "validation"))
    _keys, top = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    defs: dict[str, Any] = dict(top.get("$defs", {}))

    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        problem = {"content": {PROBLEM: {"schema": _ref(s.Problem)}}}
        responses: dict[str, Any] = {
            str(route.status): {
                "description": route.summary,
                "content": {"application/json": {"schema": _ref(route.response)}},
            }
        }
        if route.versioned:
            responses[str(route.status)]["headers"] = {
                "ETag": {"schema": {"type": "string"}, "description": "The ticket's version."}
            }
        bad_body = (400, 413) if route.body is not None else ()
        for status in sorted({401, 403, 429, *bad_body, *route.errors}):
            responses[str(status)] = {"description": _REASONS.get(status, ""), **problem}
        operation: dict[str, Any] = {
            "operationId": route.handler.__name__,
            "summary": route.summary,
            "security": [{"bearer": []}],
            "parameters": _path_params(route.path),
            "responses": responses,
        }
        if route.scope is not None:
            operation["description"] = f"Scope: `{route.scope}`."
        if route.query is not None:
            operation["parameters"] += _query_params(route.query, defs)
        if route.versioned and route.writes:
            operation["parameters"].append(
                {
                    "name": "If-Match",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                }
            )
        if route.method == "POST":
            operation["parameters"].append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    "description": "A repeat within 24 h returns the first response.",
                }
            )
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(route.body)}},
            }
        paths.setdefault(PREFIX + route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Telegram help desk API",
            "version": "1",
            "description": "Errors are application/problem+json; their types: "
            + ", ".join(f"urn:helpdesk:problem:{k}" for k in KINDS),
        },
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
