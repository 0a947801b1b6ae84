"""/metrics is served only to the configured client addresses (loopback by default), or only on a
listener of its own; anyone else gets the 404 of a path that does not exist."""
import pytest
import requests

from gateway import Gateway, free_port


def not_found_like_any_unknown_path(gw, r):
    unknown = requests.get(gw.url + "/no-such-endpoint", timeout=10)
    assert r.status_code == unknown.status_code == 404
    assert r.headers["Content-Type"] == unknown.headers["Content-Type"]
    assert set(r.json()) == set(unknown.json())
    assert r.json()["message"] == "no such endpoint: GET /metrics"
    assert "portico_" not in r.text


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    # site/gateway-config trusts 127.0.0.1 as a proxy (facility.trusted_proxies).
    g = Gateway(tmp_path_factory.mktemp("metrics-default")).start()
    yield g
    assert g.stop() == 0


def test_loopback_reads_metrics_by_default(gw):
    r = requests.get(gw.url + "/metrics", timeout=10)
    assert r.status_code == 200 and "portico_http_requests_total" in r.text


def test_a_client_forwarded_by_a_trusted_proxy_is_not_loopback(gw):
    # A proxy on the same host must not expose /metrics to the clients it forwards.
    r = requests.get(gw.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    not_found_like_any_unknown_path(gw, r)
    r = requests.get(gw.url + "/metrics", headers={"X-Forwarded-For": "127.0.0.1"}, timeout=10)
    assert r.status_code == 200


def test_addresses_not_allowed_get_404(tmp_path):
    g = Gateway(tmp_path, extra_yaml="metrics:\n  allow: [192.0.2.0/24, '2001:db8::/32']\n").start()
    try:
        not_found_like_any_unknown_path(g, requests.get(g.url + "/metrics", timeout=10))
        # What it would have said is still counted, and readable by an allowed (forwarded) client.
        r = requests.get(g.url + "/metrics", headers={"X-Forwarded-For": "192.0.2.44"}, timeout=10)
        assert r.status_code == 200 and "portico_http_requests_total" in r.text
    finally:
        assert g.stop() == 0


def test_a_listener_of_its_own(tmp_path):
    port = free_port()
    g = Gateway(tmp_path, extra_yaml=f"metrics:\n  host: 127.0.0.1\n  port: {port}\n").start()
    try:
        not_found_like_any_unknown_path(g, requests.get(g.url + "/metrics", timeout=10))
        r = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert r.status_code == 200 and "portico_http_requests_total" in r.text
        assert 'route="/status/liveness"' in r.text  # the API listener's requests
        # Nothing else is served there.
        assert requests.get(f"http://127.0.0.1:{port}/status/liveness/", timeout=10).status_code == 404
        # Its allow-list still applies.
        r = requests.get(f"http://127.0.0.1:{port}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
        assert r.status_code == 404 and "portico_" not in r.text
    finally:
        assert g.stop() == 0
