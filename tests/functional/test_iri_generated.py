"""Requests generated from the official documents for every public operation of v1 and v2: valid
and edge values for every parameter (and for path ids real, unknown and malformed ones); each
reply must have a documented status and a body valid for that status."""
import itertools

import jsonschema
import pytest
import requests

import openapi
from gateway import Gateway

METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    # Thousands of requests back to back from one user and address, most refused in well under a
    # millisecond: past the default limits (100/s per user, bursts of 200; tested in
    # test_rate_limits.py), whose 429 the official documents do not list for these operations.
    g = Gateway(tmp_path_factory.mktemp("iri-generated"),
                extra_yaml="rate_limits:\n  per_user: {rate: 100000, burst: 100000}\n"
                           "  per_address: {rate: 100000, burst: 100000}\n").start()
    yield g
    assert g.stop() == 0


def resolve(doc, schema):
    while "$ref" in schema:
        node = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def values_for(doc, schema, name):
    """Valid and edge values of one query parameter's schema."""
    schema = resolve(doc, schema)
    if "anyOf" in schema:
        return list(itertools.chain.from_iterable(values_for(doc, s, name) for s in schema["anyOf"] if s.get("type") != "null"))
    kind = schema.get("type")
    if kind == "array":
        items = values_for(doc, schema["items"], name)
        return [[v] for v in items[:3]] + [items[:2]]
    if "enum" in schema:
        return list(schema["enum"]) + ["not-in-the-enum"]
    if kind == "integer":
        low, high = schema.get("minimum", 0), schema.get("maximum", 10_000)
        return [int(low), int(high), int(low) - 1, int(high) + 1, schema.get("default", 0), "x"]
    if schema.get("format") == "date-time":
        return ["2026-02-21T12:00:00Z", "2026-02-21T12:00:00.5+02:00", "2026-02-21", "not a date"]
    if kind == "string":
        examples = schema.get("examples") or ([schema["example"]] if "example" in schema else [])
        return examples + ["hpc", "x" * max(1, schema.get("minLength", 1)), ""]
    return ["x"]


def public_operations(name):
    doc = openapi.spec(name)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS and not op.get("security"):
                yield path, method, op


CASES = [(doc, path, method, op["operationId"]) for doc in (openapi.IRI, openapi.IRI_V2)
         for path, method, op in public_operations(doc)]


def check(doc_name, r, path, method, op):
    assert str(r.status_code) in op["responses"], f"{method.upper()} {r.url}: {r.status_code} is not documented"
    entry = op["responses"][str(r.status_code)]
    media = (entry.get("content") or {}).get("application/json")
    if media:
        schema = {**media["schema"], "components": openapi.spec(doc_name)["components"]}
        jsonschema.validate(r.json(), schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("doc_name,path,method,operation_id", CASES, ids=[f"{c[0][19:21]}-{c[3]}" for c in CASES])
def test_generated_requests(gw, doc_name, path, method, operation_id):
    doc = openapi.spec(doc_name)
    op = doc["paths"][path][method]
    params = [resolve(doc, p) for p in op.get("parameters", [])]
    path_params = [p for p in params if p["in"] == "path"]
    query_params = [p for p in params if p["in"] == "query"]
    version = path.split("/")[2]

    # Path ids: every real one from the matching list, an unknown UUID, and a malformed id.
    targets = [path]
    if path_params:
        listing = path.rsplit("/", 1)[0]
        listing_method = "post" if listing.endswith("filesystem/resources") and version == "v2" else "get"
        real = requests.request(listing_method, gw.url + listing, timeout=30).json()
        ids = [x["id"] for x in real][:5] + ["00000000-0000-4000-8000-000000000000", "not-an-id"]
        targets = [path.replace("{" + path_params[0]["name"] + "}", i) for i in ids]

    sent = 0
    for target in targets:
        r = requests.request(method.upper(), gw.url + target, timeout=30)
        check(doc_name, r, path, method, op)
        sent += 1
        for p in query_params:
            for value in values_for(doc, p["schema"], p["name"]):
                r = requests.request(method.upper(), gw.url + target, params={p["name"]: value}, timeout=30)
                check(doc_name, r, path, method, op)
                sent += 1
    # Unknown and repeated parameters.
    r = requests.request(method.upper(), gw.url + targets[0], params={"no_such_parameter": "1"}, timeout=30)
    check(doc_name, r, path, method, op)
    assert r.status_code == 400
    assert sent >= 1


# ----------------------------------------------------------------------------- with a token
# The compute, filesystem and task operations (the account and storage ones are generated in
# test_iri_accounts.py with their real ids), as alice: real, unknown and malformed path ids;
# every query parameter's values; for a body, the document's examples, an empty object and a
# body of the wrong type. Nothing here can change alice's files: the documents' example paths
# are /home/user/..., which she cannot write.
TOKEN_PARTS = ("/compute/", "/filesystem/", "/task")


def token_operations(name):
    doc = openapi.spec(name)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS and op.get("security") and any(part in path for part in TOKEN_PARTS):
                yield path, method, op


TOKEN_CASES = [(doc, path, method, op["operationId"]) for doc in (openapi.IRI, openapi.IRI_V2)
               for path, method, op in token_operations(doc)]


def bodies(doc, op):
    content = (op.get("requestBody") or {}).get("content") or {}
    media = content.get("application/json")
    if not media:
        return [None]
    schema = resolve(doc, media["schema"])
    examples = list(schema.get("examples") or []) + list((media.get("examples") or {}).values())
    return [e.get("value", e) if isinstance(e, dict) and "value" in e else e for e in examples] + [{}, []]


@pytest.fixture(scope="module")
def alice_headers(token):
    return {"Authorization": f"Bearer {token('alice')}"}


@pytest.mark.parametrize("doc_name,path,method,operation_id", TOKEN_CASES,
                         ids=[f"{c[0][19:21]}-{c[3]}" for c in TOKEN_CASES])
def test_generated_requests_with_a_token(gw, alice_headers, doc_name, path, method, operation_id):
    doc = openapi.spec(doc_name)
    op = doc["paths"][path][method]
    version = path.split("/")[2]
    base = f"{gw.url}/api/{version}"
    params = [resolve(doc, p) for p in op.get("parameters", [])]
    path_params = [p["name"] for p in params if p["in"] == "path"]
    query_params = [p for p in params if p["in"] == "query"]

    real = {}
    if "resource_id" in path_params:
        if "/compute/" in path:
            listing = requests.get(base + "/compute/resources", headers=alice_headers, timeout=30)
        else:
            listing = requests.request("POST" if version == "v2" else "GET", base + "/filesystem/resources",
                                       headers=alice_headers, timeout=30)
        real["resource_id"] = next(x["id"] for x in listing.json() if x["name"].startswith("hpc"))
    if "task_id" in path_params:
        tasks = requests.get(base + "/task", headers=alice_headers, timeout=30).json()
        real["task_id"] = tasks[0]["id"] if tasks else "00000000-0000-4000-8000-000000000000"
    if "job_id" in path_params:
        real["job_id"] = "999999999"  # no such job
    variants = [dict(real)]
    for name in path_params:
        variants.append({**real, name: "00000000-0000-4000-8000-000000000000"})
        variants.append({**real, name: "not-an-id"})

    sent = 0
    for ids in variants:
        target = path
        for name in path_params:
            target = target.replace("{" + name + "}", ids[name])
        for body in bodies(doc, op):
            kw = {} if body is None else {"json": body}
            r = requests.request(method.upper(), gw.url + target, headers=alice_headers, timeout=60, **kw)
            check(doc_name, r, path, method, op)
            sent += 1
        if ids != real:
            continue
        for p in query_params:
            for value in values_for(doc, p["schema"], p["name"]):
                r = requests.request(method.upper(), gw.url + target, headers=alice_headers,
                                     params={p["name"]: value}, timeout=60)
                check(doc_name, r, path, method, op)
                sent += 1
    assert sent >= 1
