"""Shared fixtures of the functional tests: the running site, tokens, and SSH as a site user."""
import json
import os
import pathlib
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


def fetch_token(site, user):
    """An access token from the site's OIDC provider, obtained as FirecREST clients do."""
    u = site["users"][user]
    r = requests.post(site["oidc"]["token_url"], data={
        "grant_type": "client_credentials",
        "client_id": u["client_id"],
        "client_secret": u["client_secret"],
    }, timeout=10)
    r.raise_for_status()
    return r.json()["access_token"]


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
