"""Portico's own OpenAPI documents, generated from its route tables: served operationIds are the
official ones (none extra or misnamed) and every public operation of both documents is there."""
import json
import subprocess

import pytest
import requests

import openapi
from conftest import PORTICO
from gateway import Gateway

METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("iri-openapi")).start()
    yield g
    assert g.stop() == 0


def operations(doc, prefix):
    return {(m, p): op for p, item in doc["paths"].items() if p.startswith(prefix)
            for m, op in item.items() if m in METHODS}


@pytest.mark.parametrize("version,official", [("v1", openapi.IRI), ("v2", openapi.IRI_V2)])
def test_served_operation_ids_are_the_official_ones(gw, version, official):
    served = requests.get(f"{gw.url}/api/{version}/openapi.json", timeout=30)
    assert served.status_code == 200
    doc = served.json()
    assert doc["openapi"].startswith("3.1")
    ours = operations(doc, f"/api/{version}")
    theirs = operations(openapi.spec(official), f"/api/{version}")
    official_ids = {op["operationId"]: key for key, op in theirs.items()}
    for key, op in ours.items():
        assert op["operationId"] in official_ids, f"{op['operationId']} is not an official operationId"
        assert official_ids[op["operationId"]] == key, f"{op['operationId']} is at {key}, officially {official_ids[op['operationId']]}"
    public = {op["operationId"] for op in theirs.values() if not op.get("security")}
    # The whole set, none missing and none extra (the loop above refused extras).
    missing = set(official_ids) - {op["operationId"] for op in ours.values()}
    assert not missing, f"official operations not served: {sorted(missing)}"
    assert len(ours) == len(theirs)
    # Every public official operation answers as documented at its path (no 404, no 405).
    for (method, path), op in theirs.items():
        if op["operationId"] in public and "{" not in path:
            r = requests.request(method.upper(), gw.url + path, timeout=30)
            assert str(r.status_code) in op["responses"], (method, path, r.status_code)


def test_the_documents_describe_what_is_served(gw):
    doc = requests.get(f"{gw.url}/api/v1/openapi.json", timeout=30).json()
    assert doc["servers"][0]["url"] == gw.url
    resources = doc["paths"]["/api/v1/status/resources"]["get"]
    names = {p["name"] for p in resources["parameters"]}
    official = {p["name"] for p in openapi._operation(openapi.spec(openapi.IRI), "/api/v1/status/resources", "get")["parameters"]}
    assert names == official
    assert "HTTPBearer" in doc["components"]["securitySchemes"]
    # Every $ref resolves inside the document.
    text = json.dumps(doc)
    for name in {part.split('"')[0] for part in text.split('"#/components/schemas/')[1:]}:
        assert name in doc["components"]["schemas"], name


def test_root_document_has_both_apis_and_matches_the_command(gw):
    served = requests.get(f"{gw.url}/openapi.json", timeout=30)
    assert served.status_code == 200
    doc = served.json()
    assert "/api/v1/facility" in doc["paths"] and "/api/v2/facility" in doc["paths"]
    assert "/status/systems" in doc["paths"]  # FirecREST
    printed = subprocess.run([str(PORTICO), "--config", str(gw.config), "--openapi"], capture_output=True, text=True,
                             timeout=60)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == doc


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_served_replies_match_portico_s_own_document(gw, version):
    import jsonschema
    doc = requests.get(f"{gw.url}/api/{version}/openapi.json", timeout=30).json()
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    for (method, path), op in operations(doc, f"/api/{version}").items():
        if "{" in path or op.get("security"):  # this test sends no token
            continue
        r = requests.request(method.upper(), gw.url + path, timeout=30)
        assert str(r.status_code) in op["responses"], (method, path, r.status_code)
        schema = op["responses"][str(r.status_code)]["content"]["application/json"]["schema"]
        jsonschema.validate(r.json(), {**schema, "components": doc["components"]}, cls=jsonschema.Draft202012Validator)
        bad = requests.request(method.upper(), gw.url + path, params={"no_such_parameter": 1}, timeout=30)
        problem_schema = op["responses"]["400"]["content"]["application/problem+json"]["schema"]
        jsonschema.validate(bad.json(), {**problem_schema, "components": doc["components"]},
                            cls=jsonschema.Draft202012Validator)
