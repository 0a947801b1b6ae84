"""Validates responses against the official OpenAPI documents in ../shared/specs (test oracles)."""
import functools
import re

import jsonschema
import yaml

from conftest import SHARED


@functools.lru_cache(maxsize=None)
def spec(name):
    with open(SHARED / "specs" / name) as f:
        return yaml.safe_load(f)


FIRECREST = "firecrest-v2-openapi-2.5.6.yaml"
IRI = "iri-facility-api-v1.0.0.yaml"
IRI_V2 = "iri-facility-api-v2.0.0-draft.yaml"


def _operation(doc, path, method):
    """Finds the operation whose path template matches a concrete path."""
    for template, item in doc["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return item[method.lower()]
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


def _without_write_only(node):
    """A copy of a schema in which writeOnly properties are not required: OpenAPI never sends
    them in a response (e.g. the S3 credentials of FirecREST's S3DataTransfer)."""
    if isinstance(node, list):
        return [_without_write_only(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _without_write_only(v) for k, v in node.items()}
    props = node.get("properties")
    if isinstance(props, dict) and isinstance(node.get("required"), list):
        out["required"] = [r for r in node["required"] if not (props.get(r) or {}).get("writeOnly")]
    return out


@functools.lru_cache(maxsize=None)
def _response_components(doc_name):
    return _without_write_only(spec(doc_name)["components"])


def response_schema(doc_name, path, method, status):
    doc = spec(doc_name)
    responses = _operation(doc, path, method)["responses"]
    entry = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    assert entry is not None, f"{method} {path} has no documented {status} response"
    content = entry.get("content") or {}
    media = content.get("application/json") or content.get("application/problem+json")
    if media is None:
        return None
    # The schema refers to #/components/...: validate against a document that carries them.
    return {**media["schema"], "components": _response_components(doc_name)}


def validate(doc_name, response, path=None, method="GET"):
    """Asserts that an HTTP response (requests.Response) matches the documented schema."""
    from urllib.parse import urlparse
    path = path or urlparse(response.url).path
    schema = response_schema(doc_name, path, method, response.status_code)
    if schema is None:
        return
    jsonschema.validate(response.json(), schema, cls=jsonschema.Draft202012Validator)


def validate_component(doc_name, component, body):
    """Asserts that a body matches one of the document's component schemas (for a status the
    document does not list, e.g. the IRI API's 429, whose body is still its Problem)."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": _response_components(doc_name)}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)
