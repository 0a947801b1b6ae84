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


def _operation(doc, path, method):
    """Finds the operation whose path template matches a concrete path."""
    for template, item in doc["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return item[method.lower()]
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


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
    return {**media["schema"], "components": doc["components"]}


def validate(doc_name, response, path=None, method="GET"):
    """Asserts that an HTTP response (requests.Response) matches the documented schema."""
    from urllib.parse import urlparse
    path = path or urlparse(response.url).path
    schema = response_schema(doc_name, path, method, response.status_code)
    if schema is None:
        return
    jsonschema.validate(response.json(), schema, cls=jsonschema.Draft202012Validator)
