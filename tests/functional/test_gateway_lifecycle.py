"""The gateway's process life: TLS, graceful shutdown, configuration refusals at start."""
import concurrent.futures
import os
import signal
import subprocess
import time

import pytest
import requests

from gateway import Gateway


def test_tls_when_a_certificate_is_configured(tmp_path, token):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    g = Gateway(tmp_path)
    g.config.write_text(g.config.read_text().replace(
        "  api_root: /\n", f"  api_root: /\n  tls: {{cert_file: {cert}, key_file: {key}}}\n"))
    g.start(scheme="https", verify=str(cert))
    try:
        r = requests.get(g.url + "/status/hpc/userinfo", headers={"Authorization": f"Bearer {token('alice')}"},
                         verify=str(cert), timeout=30)
        assert r.status_code == 200, r.text
        assert r.json()["user"]["name"] == "alice"
        # Streamed bodies over TLS too: an upload (multipart, read as it arrives) and its download.
        auth = {"Authorization": f"Bearer {token('alice')}"}
        data = os.urandom(3 * 1024 * 1024 + 17)
        r = requests.post(g.url + "/filesystem/hpc/ops/upload", params={"path": "/scratch/alice"}, headers=auth,
                          files={"file": ("tls-upload.bin", data)}, verify=str(cert), timeout=60)
        assert r.status_code == 204, r.text
        r = requests.get(g.url + "/filesystem/hpc/ops/download", params={"path": "/scratch/alice/tls-upload.bin"},
                         headers={**auth, "Range": "bytes=17-"}, verify=str(cert), timeout=60)
        assert r.status_code == 206 and r.content == data[17:]
        r = requests.delete(g.url + "/filesystem/hpc/ops/rm", params={"path": "/scratch/alice/tls-upload.bin"},
                            headers=auth, verify=str(cert), timeout=60)
        assert r.status_code == 204, r.text
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{g.port}/status/liveness/", timeout=5)
    finally:
        assert g.stop() == 0


def test_sigterm_lets_in_flight_requests_finish(tmp_path, token):
    g = Gateway(tmp_path).start()
    t = token("alice")
    try:
        def call(_):
            try:
                return requests.get(g.url + "/status/hpc/userinfo", headers={"Authorization": f"Bearer {t}"}, timeout=30)
            except requests.ConnectionError as e:
                return e
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(call, i) for i in range(16)]
            time.sleep(0.05)
            g.proc.send_signal(signal.SIGTERM)
            results = [f.result() for f in futures]
        answered = [r for r in results if isinstance(r, requests.Response)]
        assert answered, "no request got through before the shutdown"
        assert all(r.status_code == 200 and r.json()["user"]["name"] == "alice" for r in answered)
        assert g.proc.wait(30) == 0
    finally:
        g.stop()


def test_a_taken_port_is_a_clear_startup_error(tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        g = Gateway(tmp_path, port=s.getsockname()[1])
        with pytest.raises(RuntimeError, match="cannot listen on 127.0.0.1"):
            g.start(timeout=10)


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_a_ca_key_others_can_read_is_a_startup_refusal(tmp_path, site, mode):
    import shutil
    key = tmp_path / "ca"
    shutil.copyfile(site["ssh"]["ca_key"], key)
    os.chmod(key, mode)
    g = Gateway(tmp_path)
    g.config.write_text(g.config.read_text().replace(site["ssh"]["ca_key"], str(key)))
    with pytest.raises(RuntimeError, match=f"the CA key {key} is accessible by group or others"):
        g.start(timeout=10)


def test_the_api_root_is_configurable(tmp_path, token):
    g = Gateway(tmp_path)
    g.config.write_text(g.config.read_text().replace("  api_root: /\n", "  api_root: /api/firecrest\n"))
    g.start(root="/api/firecrest")
    try:
        r = requests.get(g.url + "/status/hpc/userinfo", headers={"Authorization": f"Bearer {token('alice')}"}, timeout=30)
        assert r.json()["user"]["name"] == "alice"
        r = requests.get(f"http://127.0.0.1:{g.port}/status/liveness/", timeout=5)
        assert r.status_code == 404 and r.json()["errorType"] == "error"
    finally:
        assert g.stop() == 0


def test_an_unreachable_cluster_is_424_and_a_known_down_one_503(tmp_path, token):
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    g = Gateway(tmp_path)
    text = g.config.read_text().replace("      port: 2222\n", f"      port: {closed}\n")
    g.config.write_text(text.replace("    probe_user: portico-probe\n", ""))  # no probes: nothing knows yet
    g.start()
    try:
        r = requests.get(g.url + "/status/hpc/userinfo", headers={"Authorization": f"Bearer {token('alice')}"}, timeout=30)
        assert r.status_code == 424, r.text
        assert "cannot reach hpc over SSH" in r.json()["message"]
    finally:
        assert g.stop() == 0

    g = Gateway(tmp_path, env={"PORTICO_HEALTH_INTERVAL": "1s"})
    g.config.write_text(g.config.read_text().replace("      port: 2222\n", f"      port: {closed}\n"))
    g.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            r = requests.get(g.url + "/status/hpc/userinfo", headers={"Authorization": f"Bearer {token('alice')}"}, timeout=30)
            if r.status_code == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.status_code == 503, r.text
        assert "SSH service" in r.json()["message"] and r.headers["Retry-After"]
    finally:
        assert g.stop() == 0


def test_required_scopes_are_enforced_per_system(tmp_path, site):
    import tokens
    g = Gateway(tmp_path)
    g.config.write_text(g.config.read_text().replace("      groups: [hpcusers]\n",
                                                     "      groups: [hpcusers]\n      required_scopes: [firecrest]\n"))
    g.start()
    try:
        url = g.url + "/status/hpc/userinfo"
        r = requests.get(url, headers={"Authorization": f"Bearer {tokens.signed(site, scope='openid')}"}, timeout=30)
        assert r.status_code == 403 and "scope 'firecrest'" in r.json()["message"], r.text
        r = requests.get(url, headers={"Authorization": f"Bearer {tokens.signed(site, scope='openid firecrest')}"}, timeout=30)
        assert r.status_code == 200, r.text
    finally:
        assert g.stop() == 0
