"""Shared fixtures of the functional tests: the running site, tokens, and SSH as a site user."""
import json
import os
import pathlib
import re
import subprocess

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE_JSON = ROOT / "var" / "site" / "site.json"
# PORTICO_BINARY runs the tests against another build (e.g. a sanitizer build in build-asan/).
PORTICO = pathlib.Path(os.environ.get("PORTICO_BINARY", ROOT / "build" / "portico"))
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def site():
    if not SITE_JSON.exists():
        pytest.fail(f"{SITE_JSON} is missing: run `site/site up` first (scripts/test does)")
    return json.loads(SITE_JSON.read_text())


# Every access token the suite obtained, for the leak check at its end.
ISSUED_TOKENS = set()


def fetch_token(site, user):
    """An access token from the site's OIDC provider, obtained as FirecREST clients do."""
    u = site["users"][user]
    r = requests.post(site["oidc"]["token_url"], data={
        "grant_type": "client_credentials",
        "client_id": u["client_id"],
        "client_secret": u["client_secret"],
    }, timeout=10)
    r.raise_for_status()
    ISSUED_TOKENS.add(r.json()["access_token"])
    return r.json()["access_token"]


# ---- no secret in any log line, audit line, metric or error body --------------------------------
# Every response the suite reads through `requests` from a gateway (not from the OIDC provider,
# whose replies carry tokens by design) is looked at as it arrives; every gateway's log (its log
# and audit lines) is read at the end of the session. Presigned URLs are meant for clients, so a
# signature is a leak only in a log.
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
SIGNATURE = re.compile(rb"(?i)x-amz-signature(=|%3d|\"?\s*:\s*\"?)[0-9a-f]{16,}")
LEAKS = []
_send = requests.Session.send


def _secrets():
    if not SITE_JSON.exists():
        return []
    site = json.loads(SITE_JSON.read_text())
    values = [u["client_secret"] for u in site["users"].values()] + [site["s3"]["secret_access_key"]]
    return [v.encode() for v in values if len(v) >= 8]


def _leaks_in(data: bytes, secrets, with_signatures):
    found = [f"a JWT ({m.group()[:12]!r}...)" for m in JWT.finditer(data)]
    found += [f"the secret {s[:3]!r}..." for s in secrets if s in data]
    found += [f"the token {t[:12]}..." for t in ISSUED_TOKENS if t.encode() in data]
    if with_signatures:
        found += [f"a presigned signature ({m.group()[:24]!r}...)" for m in SIGNATURE.finditer(data)]
    return found


def _checked_send(self, request, **kw):
    response = _send(self, request, **kw)
    oidc = json.loads(SITE_JSON.read_text())["oidc"]["token_url"] if SITE_JSON.exists() else None
    url = request.url or ""
    to_oidc = oidc and url.split("/")[2] == oidc.split("/")[2]
    if not to_oidc and not kw.get("stream") and len(response.content) < (4 << 20):
        for leak in _leaks_in(response.content, _secrets(), with_signatures=False):
            LEAKS.append(f"{request.method} {url.split('?')[0]} answered {response.status_code} with {leak}")
    return response


requests.Session.send = _checked_send


@pytest.fixture(scope="session", autouse=True)
def no_secret_leaks(tmp_path_factory):
    yield
    secrets = _secrets()
    for log in sorted(tmp_path_factory.getbasetemp().rglob("portico.log")):
        for number, line in enumerate(log.read_bytes().splitlines(), 1):
            for leak in _leaks_in(line, secrets, with_signatures=True):
                LEAKS.append(f"{log}:{number} holds {leak}")
    assert not LEAKS, "secrets leaked:\n" + "\n".join(LEAKS[:50])


@pytest.fixture(scope="session")
def token(site):
    return lambda user: fetch_token(site, user)


class SshAs:
    """Runs commands on the site's sshd with a certificate signed by the site CA."""

    def __init__(self, site, workdir: pathlib.Path):
        self.site = site
        self.workdir = workdir
        host_pub = pathlib.Path(site["ssh"]["host_public_key"]).read_text().split()
        self.known_hosts = workdir / "known_hosts"
        self.known_hosts.write_text(f"[{site['ssh']['host']}]:{site['ssh']['port']} {host_pub[0]} {host_pub[1]}\n")

    def certificate_for(self, principal, name=None):
        key = self.workdir / (name or f"key-{principal}")
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
            # Valid for the whole test session (which outgrew five minutes), not one certificate
            # per command: the key is made once and reused.
            subprocess.run(["ssh-keygen", "-q", "-s", self.site["ssh"]["ca_key"], "-I", f"test-{principal}",
                            "-n", principal, "-V", "-1m:+4h", str(key) + ".pub"], check=True)
        return key

    def run(self, login, command, key=None, input=None, timeout=60):
        key = key or self.certificate_for(login)
        argv = ["ssh", "-p", str(self.site["ssh"]["port"]), "-i", str(key),
                "-o", f"CertificateFile={key}-cert.pub", "-o", "IdentitiesOnly=yes",
                "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                f"{login}@{self.site['ssh']['host']}", command]
        return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def ssh(site, tmp_path_factory):
    return SshAs(site, tmp_path_factory.mktemp("ssh"))
