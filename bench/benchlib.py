"""What the benchmarks share: the site description, tokens, the gateway launcher of the functional
tests, and raw OpenSSH as alice over one ControlMaster connection (the physical limit Portico is
compared with)."""
import json
import pathlib
import subprocess
import sys

import requests

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "functional"))
from gateway import Gateway  # noqa: E402,F401  (the same launcher the functional tests use)

SITE = json.loads((ROOT / "var" / "site" / "site.json").read_text())

# Benchmarks measure the gateway, not its rate limits: limits no benchmark meets (the buckets are
# still charged on every request). Append to a gateway's configuration (Gateway(extra_yaml=...)).
HIGH_RATE_LIMITS = """
rate_limits:
  per_address: {rate: 1000000000, burst: 1000000000}
  per_user: {rate: 1000000000, burst: 1000000000}
"""


def token(user):
    u = SITE["users"][user]
    return requests.post(SITE["oidc"]["token_url"], data={"grant_type": "client_credentials", "client_id": u["client_id"],
                                                          "client_secret": u["client_secret"]}, timeout=10).json()["access_token"]


class RawSsh:
    """OpenSSH as a site user (alice by default) with a certificate from the site CA, over one
    ControlMaster connection."""

    def __init__(self, work, user="alice"):
        self.work = pathlib.Path(work)
        self.login = f"{user}@127.0.0.1"
        key = self.work / f"key-{user}"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        subprocess.run(["ssh-keygen", "-q", "-s", SITE["ssh"]["ca_key"], "-I", "bench", "-n", user, "-V", "+1h",
                        str(key) + ".pub"], check=True)
        host = pathlib.Path(SITE["ssh"]["host_public_key"]).read_text().split()
        (self.work / "known_hosts").write_text(f"[127.0.0.1]:{SITE['ssh']['port']} {host[0]} {host[1]}\n")
        self.base = ["ssh", "-p", str(SITE["ssh"]["port"]), "-i", str(key), "-o", "IdentitiesOnly=yes",
                     "-o", f"UserKnownHostsFile={self.work / 'known_hosts'}", "-o", "BatchMode=yes",
                     "-o", f"ControlPath={self.work / ('ctl-' + user)}"]
        subprocess.run(self.base + ["-o", "ControlMaster=yes", "-o", "ControlPersist=600", "-fN", self.login], check=True)

    def argv(self, command):
        return self.base + [self.login, command]

    def run(self, command, text=True, **kw):
        return subprocess.run(self.argv(command), capture_output=True, text=text, **kw)

    def close(self):
        subprocess.run(self.base + ["-O", "exit", self.login], capture_output=True)


def sustained(fn, seconds, concurrency):
    """Calls fn() from `concurrency` threads for `seconds`; returns successes per second."""
    import concurrent.futures
    import time
    end = time.monotonic() + seconds

    def loop():
        n = 0
        while time.monotonic() < end:
            n += 1 if fn() else 0
        return n

    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        total = sum(pool.map(lambda _: loop(), range(concurrency)))
    return total / seconds


# What Portico runs for GET ops/ls (filesystem::ls_command), word for word: the raw side of the
# listing benchmarks.
LS = ["env", "LC_ALL=C", "ls", "-l", "--quoting-style=c", "--time-style=+%Y-%m-%dT%H:%M:%S", "--"]


# The directory the listing benchmarks read: 5,000 files with names of varied length, 200
# directories, 100 symbolic links (5,300 entries).
LISTING_ENTRIES = 5300


def make_listing_dir(raw, directory):
    make = (f"mkdir {directory} && cd {directory} && "
            f"seq 0 4999 | sed 's/^/data-file-with-a-longer-name-/' | xargs touch && "
            f"seq 0 199 | sed 's/^/dir-/' | xargs mkdir && "
            f"for i in $(seq 0 99); do ln -s data-file-with-a-longer-name-$i link-$i; done")
    r = raw.run(make, text=False)
    assert r.returncode == 0, r.stderr
