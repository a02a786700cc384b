"""The OpenAPI 3 document, generated from the route table and the pydantic schemas."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel


@dataclass(frozen=True)
class Operation:
    """One documented route of the JSON API."""

    method: str
    path: str
    summary: str
    who: str
    body: type[BaseModel] | None = None
    body_type: str = "application/json"
    success: int = 200


OPERATIONS: list[Operation] = []

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "enum": [
                        "invalid",
                        "unauthorized",
                        "forbidden",
                        "not_found",
                        "conflict",
                        "closed",
                        "too_large",
                        "rate_limited",
                        "busy",
                        "unavailable",
                        "internal",
                    ],
                },
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}


def document(op: Operation) -> None:
    """Add an operation to the document."""
    OPERATIONS.append(op)


def _path(flask_path: str) -> str:
    """Flask's <int:id> becomes OpenAPI's {id}."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", flask_path)


def _operation(op: Operation, schemas: dict) -> dict:
    """One operation object."""
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", _path(op.path))
    ]
    item = {
        "summary": op.summary,
        "description": f"Who: {op.who}.",
        "parameters": params,
        "security": [{"bearer": []}, {"cookie": []}],
        "responses": {
            str(op.success): {"description": "Success"},
            "default": {
                "description": "An error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    if op.body is not None:
        schemas[op.body.__name__] = op.body
        ref = {"$ref": f"#/components/schemas/{op.body.__name__}"}
        item["requestBody"] = {"required": True, "content": {op.body_type: {"schema": ref}}}
    elif op.body_type == "text/plain":
        item["requestBody"] = {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    return item


def build(version: str) -> dict:
    """The whole OpenAPI document."""
    models: dict[str, type[BaseModel]] = {}
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(_path(op.path), {})[op.method.lower()] = _operation(op, models)
    components = {"Error": ERROR_SCHEMA}
    for name, model in models.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[name] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "qa_app API",
            "version": version,
            "description": "The JSON API of qa_app. The Socket.IO protocol is in DESIGN.md.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A participant token, a moderator key or session.",
                },
                "cookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The admin's login session (send X-CSRFToken).",
                },
            },
        },
    }
