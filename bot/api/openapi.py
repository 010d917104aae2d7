"""The OpenAPI 3.1 document, generated from the route table and the pydantic models that
validate the requests (never written by hand)."""

from __future__ import annotations

from html import escape
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
    502: "Telegram did not give the file",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _path_params(path: str) -> list[dict[str, Any]]:
    params = []
    for name in ("number", "telegram_id", "id"):  # path parameters are integers
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
        if route.response is not None:
            models.append((route.response, "serialization"))
        if route.body is not None:
            models.append((route.body, "validation"))
    _keys, top = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    defs: dict[str, Any] = dict(top.get("$defs", {}))

    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        problem = {"content": {PROBLEM: {"schema": _ref(s.Problem)}}}
        content = (
            {"application/json": {"schema": _ref(route.response)}}
            if route.response is not None
            else {"*/*": {"schema": {"type": "string", "format": "binary"}}}
        )
        responses: dict[str, Any] = {
            str(route.status): {"description": route.summary, "content": content}
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


def page(spec: dict[str, Any]) -> str:
    """A minimal HTML page that renders the document (no scripts, nothing fetched elsewhere)."""
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{escape(spec['info']['title'])}</title>",
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;"
        "padding:0 1em}code{background:#f4f4f4;padding:0 .2em}h3{margin-bottom:.2em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .5em;"
        "text-align:left;vertical-align:top}</style></head><body>",
        f"<h1>{escape(spec['info']['title'])}</h1>",
        "<p>Send <code>Authorization: Bearer &lt;key&gt;</code>. "
        "The machine-readable document: <a href='openapi.json'>openapi.json</a>.</p>",
        f"<p>{escape(spec['info']['description'])}</p>",
    ]
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            out.append(f"<h3><code>{method.upper()} {escape(path)}</code></h3>")
            out.append(f"<p>{escape(op['summary'])}. {escape(op.get('description', ''))}</p>")
            rows = [
                f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
                f"<td>{escape(_type(p['schema']))}</td>"
                f"<td>{escape(p.get('description', ''))}</td></tr>"
                for p in op.get("parameters", [])
            ]
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                name = body["schema"]["$ref"].rsplit("/", 1)[-1]
                fields = spec["components"]["schemas"][name].get("properties", {})
                rows += [
                    f"<tr><td><code>{escape(f)}</code></td><td>body</td>"
                    f"<td>{escape(_type(s))}</td><td>{escape(s.get('description', ''))}</td></tr>"
                    for f, s in fields.items()
                ]
            if rows:
                out.append("<table><tr><th>name</th><th>in</th><th>type</th><th></th></tr>")
                out += [*rows, "</table>"]
            codes = ", ".join(op["responses"])
            out.append(f"<p>Answers: {escape(codes)}</p>")
    out.append("</body></html>")
    return "\n".join(out)


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return "list of " + _type(schema.get("items", {}))
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    return str(schema.get("format") or schema.get("type") or "any")
