"""The OpenAPI document of ``neurona serve``'s routes (served as ``GET /openapi.json``).

One function writes it, from the models served and the server's settings: the
models' names are the only values of ``{name}``, the limits are in the
descriptions, and with a token every route but the liveness ones asks for it.
``tests/face/test_serving.py`` checks that the document and the application hold
the same routes, and runs generated requests from it against the server.
"""

from __future__ import annotations

from .. import __version__
from .serving_codec import DATATYPES, JSON_FORMS

ERROR = {"type": "object", "required": ["error"], "additionalProperties": False,
         "properties": {"error": {"type": "string", "description": "what is wrong, one line"}}}

_TENSOR = {
    "type": "object", "required": ["name", "datatype", "shape"],
    "properties": {
        "name": {"type": "string", "description": "the column's name"},
        "datatype": {"type": "string", "enum": list(DATATYPES)},
        "shape": {"type": "array", "minItems": 1, "maxItems": 2,
                  "items": {"type": "integer", "minimum": 0},
                  "description": "[n] or [n, 1]: one value per row"},
        "data": {"type": "array", "description": "the values, or [[v], ...]"},
        "parameters": {"type": "object", "properties": {
            "binary_data_size": {"type": "integer", "minimum": 0}}},
    },
}

INFER_REQUEST = {
    "type": "object", "required": ["inputs"],
    "properties": {
        "id": {"type": "string"},
        "parameters": {"type": "object", "properties": {
            "binary_data_output": {"type": "boolean"}}},
        "inputs": {"type": "array", "minItems": 1, "items": _TENSOR},
        "outputs": {"type": "array", "items": {
            "type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"}, "parameters": {
                "type": "object", "properties": {"binary_data": {"type": "boolean"}}}}}},
    },
}

INFER_RESPONSE = {
    "type": "object", "required": ["model_name", "outputs"],
    "properties": {
        "model_name": {"type": "string"}, "model_version": {"type": "string"},
        "id": {"type": "string"},
        "outputs": {"type": "array", "items": {
            "type": "object", "required": ["name", "datatype", "shape"],
            "properties": {"name": {"type": "string"}, "datatype": {"type": "string"},
                           "shape": {"type": "array", "items": {"type": "integer"}},
                           "data": {"type": "array"}, "parameters": {"type": "object"}}}},
    },
}

_RECORDS = {"type": "array", "items": {"type": "object"},
            "description": "one object per row: {\"column\": value}"}
_COLUMNS = {"type": "object", "additionalProperties": {"type": "array"},
            "description": "each column's values: {\"column\": [values]}"}
_PARAMS = {"type": "object", "maxProperties": 0}

MLFLOW_REQUEST = {"oneOf": [
    {"type": "object", "required": ["dataframe_split"], "additionalProperties": False,
     "properties": {"params": _PARAMS, "dataframe_split": {
         "type": "object", "required": ["columns", "data"], "additionalProperties": False,
         "properties": {"columns": {"type": "array", "items": {"type": "string"}},
                        "data": {"type": "array", "items": {"type": "array"}},
                        "index": {"type": "array"}}}}},
    {"type": "object", "required": ["dataframe_records"], "additionalProperties": False,
     "properties": {"params": _PARAMS, "dataframe_records": _RECORDS}},
    {"type": "object", "required": ["instances"], "additionalProperties": False,
     "properties": {"params": _PARAMS, "instances": {"oneOf": [_RECORDS, _COLUMNS]}}},
    {"type": "object", "required": ["inputs"], "additionalProperties": False,
     "properties": {"params": _PARAMS, "inputs": {"oneOf": [_RECORDS, _COLUMNS]}}},
]}

INVOCATIONS_RESPONSE = {
    "type": "object", "required": ["predictions"],
    "properties": {"predictions": {"type": "array", "description": (
        "a regression's numbers, in its target's units; a classifier's "
        "{\"probability\", \"label\"} per row (one-vs-rest: {\"label\", \"probabilities\"}, "
        "in the order of \"classes\")")},
        "classes": {"type": "array"}},
}

EXPLAIN_RESPONSE = {
    "type": "object", "required": ["model_name", "task", "explanations"],
    "properties": {
        "model_name": {"type": "string"}, "task": {"type": "string",
                                                   "enum": ["classify", "regress"]},
        "explanations": {"type": "array", "items": {"type": "object", "properties": {
            "logit": {"type": "number"}, "net_input": {"type": "number"},
            "bias": {"type": "number"}, "probability": {"type": "number"},
            "prediction": {"type": "number"}, "label": {},
            "contributions": {"type": "object", "additionalProperties": {"type": "number"}},
            "classes": {"type": "array", "items": {"type": "object"}}}}},
    },
}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _answers(ok: dict, *codes: int, description: str = "the answer") -> dict:
    out = {"200": {"description": description, "content": _json(ok)}}
    reasons = {400: "the request is not one the model can answer", 401: "no or a wrong token",
               403: "another Host or Origin", 404: "no such model", 408: "sent too slowly",
               413: "the body or its rows over the limits", 415: "a body of another type",
               503: "the answer took longer than the limit"}
    for code in codes:
        out[str(code)] = {"description": reasons[code], "content": _json(ERROR)}
    return out


def openapi_document(registry, *, limits, token: bool) -> dict:
    """The OpenAPI 3.1 document of a server serving ``registry``'s models."""
    names = list(registry.models)
    name = {"name": "name", "in": "path", "required": True,
            "schema": {"type": "string", "enum": names}, "description": "the model's name"}
    guard = (401, 403) if token else (403,)
    limits_text = (f"At most {limits.max_body} bytes and {limits.max_rows} rows per request, "
                   f"{limits.timeout:g} s per request.")
    body_codes = (400, *guard, 408, 413, 415, 503)

    def get(summary, schema, *codes, params=(), open_route=False):
        op = {"summary": summary, "responses": _answers(schema, *codes, *guard)}
        if params:
            op["parameters"] = list(params)
        if open_route:
            op["security"] = []
            op["responses"].pop("401", None)
        return {"get": op}

    def post(summary, request, response, *, params=(), csv=False):
        content = _json(request)
        if csv:
            content["text/csv"] = {"schema": {"type": "string"}}
        op = {"summary": summary, "description": limits_text,
              "requestBody": {"required": True, "content": content},
              "responses": _answers(response, *body_codes, *((404,) if params else ()))}
        if params:
            op["parameters"] = list(params)
        return {"post": op}

    flag = {"type": "object"}
    explain_request = {"oneOf": [INFER_REQUEST, *MLFLOW_REQUEST["oneOf"]]}
    model_query = {"name": "model", "in": "query", "required": False,
                   "schema": {"type": "string", "enum": names},
                   "description": "the model, when the server serves several"}
    paths = {
        "/v2/health/live": get("the server is up", flag, open_route=True),
        "/v2/health/ready": get("every model is loaded and checked", flag),
        "/v2": get("the server's name, version and protocol extensions", flag),
        "/v2/models/{name}": get("the model's inputs (one per column), outputs and terms",
                                 flag, 404, params=[name]),
        "/v2/models/{name}/ready": get("the model is ready", flag, 404, params=[name]),
        "/v2/models/{name}/infer": post(
            "predict: one input tensor per column, matched by name", INFER_REQUEST,
            INFER_RESPONSE, params=[name]),
        "/v2/models/{name}/explain": post(
            "per row the logit, the output, the label and each feature's contribution "
            "w_i * x_i after scaling (they add up with the bias to the logit)",
            explain_request, EXPLAIN_RESPONSE, params=[name], csv=True),
        "/invocations": post(
            f"predict, as MLflow's scoring server: {', '.join(JSON_FORMS)} or CSV",
            MLFLOW_REQUEST, INVOCATIONS_RESPONSE, params=[model_query], csv=True),
        "/ping": get("the server is up", flag, open_route=True),
        "/health": get("the server is up and its models loaded", flag),
        "/version": get("neurona's version", flag),
        "/openapi.json": get("this document", flag),
    }
    # A query parameter does not make /invocations answer 404 for an unknown model more
    # than for any bad request: it is in the document's 404 all the same.
    paths["/invocations"]["post"]["responses"]["404"] = {
        "description": "no such model", "content": _json(ERROR)}
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "neurona serve", "version": __version__,
                 "description": "A neuron's predictions and explanations, in the model's own "
                                "terms: columns by name, original labels, probabilities. "
                                + limits_text},
        "paths": paths,
    }
    if token:
        doc["components"] = {"securitySchemes": {"bearer": {"type": "http",
                                                            "scheme": "bearer"}}}
        doc["security"] = [{"bearer": []}]
    return doc
