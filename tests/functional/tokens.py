"""Tokens for hostile-input tests, signed with the site provider's real key (read from the
site's state), so that only the property under test is wrong."""
import base64
import json
import time

import jwt
from cryptography.hazmat.primitives import serialization


def _private_jwk(site):
    with open(f"{site['site_dir']}/oidc/jwks.private.json") as f:
        return json.load(f)["keys"][0]


def signing_key(site):
    jwk = _private_jwk(site)
    return jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk)), jwk["kid"]


def claims(site, user="alice", **overrides):
    now = int(time.time())
    c = {"iss": site["oidc"]["issuer"], "aud": site["oidc"]["audience"], "sub": f"{user}-client",
         "client_id": f"{user}-client", "preferred_username": user, "iat": now, "exp": now + 300,
         "jti": f"test-{now}"}
    c.update(overrides)
    return {k: v for k, v in c.items() if v is not None}


def signed(site, **overrides):
    key, kid = signing_key(site)
    return jwt.encode(claims(site, **overrides), key, algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_alg_none(site, **overrides):
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims(site, **overrides)).encode())}."


def hs256_with_public_key(site):
    """The algorithm-confusion attack: an HS256 MAC keyed with the RSA public key's PEM."""
    key, kid = signing_key(site)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims(site)).encode())
    import hashlib
    import hmac
    mac = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"
