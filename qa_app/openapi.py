"""The OpenAPI 3 document, generated from the route table and the pydantic schemas."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel, TypeAdapter

from .errorhandlers import HTTP_CODES
from .errors import DomainError
from .schemas import Id


@dataclass(frozen=True)
class Operation:
    """One documented route of the JSON API."""

    method: str
    path: str
    summary: str
    who: str
    body: type[BaseModel] | None = None
    body_type: str = "application/json"
    success: int | tuple[int, ...] = 200
    body_required: bool = True
    query: dict[str, dict] = field(default_factory=dict)
    params: dict[str, dict] = field(default_factory=dict)


OPERATIONS: list[Operation] = []

# The schema of a path parameter, by its URL converter (`<id:question_id>`); others are strings.
CONVERTERS = {"id": TypeAdapter(Id).json_schema()}

# Who may call an operation, as OpenAPI security requirements (any one of them will do): the
# admin's session cookie needs its CSRF token on every change.
SECURITY = {
    "anyone": [{}, {"bearer": []}, {"cookie": []}],
    "participant": [{"bearer": []}],
    "moderator": [{"bearer": []}, {"cookie": [], "csrf": []}],
    "admin": [{"cookie": [], "csrf": []}],
}


DESCRIPTION = """\
The JSON API of qa_app, a self-hosted live Q&A server for panel discussions.

An organiser creates an event: its title, times, venue, description, the issues for
discussion and the speakers. The audience joins the event by its six-character code, asks
questions and votes for them; moderators approve, edit, merge, answer and dismiss questions,
choose the current issue and put a question on the hall's screen.

Credentials: a participant's token or a moderator's key goes in `Authorization: Bearer ...`;
the organiser's pages (and a moderator's console) use a session cookie and send its CSRF token
in `X-CSRFToken` on every change. Bodies are JSON, except an event's programme text (plain text)
and the CSV export. Every refusal has one shape, `{"error": {"code", "message", "details"}}`,
with the codes listed in the `Error` schema; `message` is for people, `code` and `details` for
programs.

Changes reach the pages live over Socket.IO, which this document does not cover:
docs/protocol.md in the qa_app source is the full contract, the objects, the Socket.IO events
and every route of this API.
"""


def error_codes() -> list[str]:
    """Every `code` an error can carry: the domain's, the HTTP errors', and `internal`."""
    codes, pending = set(HTTP_CODES.values()) | {"internal", "error"}, [DomainError]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending += cls.__subclasses__()
    return sorted(codes)


def error_schema() -> dict:
    """The one error shape of every refusal."""
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": error_codes()},
                    "message": {"type": "string"},
                    "details": {
                        "description": "What tells refusals of one code apart (the pages word a "
                        "refusal by code and details, never by message): for invalid a list of "
                        "{field, problem, type}; for closed {what: questions|voting}; for "
                        "not_found {what}; for conflict {reason}. See docs/protocol.md."
                    },
                },
            }
        },
    }


def document(op: Operation) -> None:
    """Add an operation to the document."""
    OPERATIONS.append(op)


def _path(flask_path: str) -> str:
    """Flask's <id:question_id> becomes OpenAPI's {question_id}."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", flask_path)


def _parameters(op: Operation) -> list[dict]:
    """The path parameters (typed by their converter) and the query parameters."""
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": op.params.get(name) or CONVERTERS.get(converter, {"type": "string"}),
        }
        for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", op.path)
    ]
    params += [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in op.query.items()
    ]
    return params


def _request_body(op: Operation, schemas: dict) -> dict | None:
    """The request body object, registering its model among the component schemas."""
    if op.body is not None:
        schemas[op.body.__name__] = op.body
        schema = {"$ref": f"#/components/schemas/{op.body.__name__}"}
    elif op.body_type == "text/plain":
        schema = {"type": "string"}
    else:
        return None
    return {"required": op.body_required, "content": {op.body_type: {"schema": schema}}}


def _operation(op: Operation, schemas: dict) -> dict:
    """One operation object."""
    successes = op.success if isinstance(op.success, tuple) else (op.success,)
    security = SECURITY[op.who]
    if op.method == "GET":
        security = [{k: v for k, v in option.items() if k != "csrf"} for option in security]
    item = {
        "summary": op.summary,
        "description": f"Who: {op.who}.",
        "parameters": _parameters(op),
        "security": security,
        "responses": {
            **{str(status): {"description": "Success"} for status in successes},
            "default": {
                "description": "An error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    body = _request_body(op, schemas)
    if body is not None:
        item["requestBody"] = body
    return item


def build(version: str) -> dict:
    """The whole OpenAPI document."""
    models: dict[str, type[BaseModel]] = {}
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(_path(op.path), {})[op.method.lower()] = _operation(op, models)
    components = {"Error": error_schema()}
    for name, model in models.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[name] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "qa_app API",
            "version": version,
            "description": DESCRIPTION,
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
                    "description": "The admin's login session.",
                },
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": "The CSRF token of the admin's pages, on every change.",
                },
            },
        },
    }
