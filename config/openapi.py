"""The OpenAPI schema's error answers, documented once for every operation (a drf-spectacular hook).

DRF answers the same errors on every endpoint: 400 with the serializer's field errors (or a `detail`), 401 or
403 `{"detail"}` for a caller without valid credentials or not allowed, 404
`{"detail"}` for an object the caller may not see or that does not exist. Views document their success
answers and any error of their own (429 on the token exchange); this hook adds the common ones, so that the
schema describes every status code the API can give (schemathesis checks it: tests/security/test_api_fuzzing.py).
"""

from __future__ import annotations

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": "Why the request was refused: `detail`, or the invalid fields with their messages.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}


def _json(ref: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def error_responses_document(result: dict, generator, request, public) -> dict:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas["ValidationError"] = VALIDATION_ERROR
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
                responses["400"] = _json("#/components/schemas/ValidationError", "Invalid input.")
            if any(requirement for requirement in operation.get("security", [])):
                responses.setdefault("401", _json("#/components/schemas/Error", "No valid credentials."))
                responses.setdefault("403", _json("#/components/schemas/Error", "Not allowed."))
            if any(p.get("in") == "path" for p in parameters) or (
                "requestBody" in operation and any(operation.get("security", []))
            ):  # an id in the path or the body names an object this caller may not see, or none at all
                responses.setdefault("404", _json("#/components/schemas/Error", "No such object for this caller."))
    return result
