"""Slow clients on the real gateway: one trickling its headers or its body a byte at a time, or
never reading its replies, is cut by the server at its configured deadlines (header, body,
upload rate, write), and hundreds of them at once, more than the soft limit of open files the
gateway was started with, do not stop a normal client from being served. Every wait is on a
condition with a deadline; nothing asserts on time (bench/slow_clients.py has the figures)."""
import time
import uuid

import pytest
import requests

from gateway import Gateway
from slow import Slow, Trickle

# Short deadlines, long next to what setting up the connections takes.
LIMITS = """limits:
  idle_timeout: 4s
  request_timeout: 4s
  min_upload_rate: 1KiB
"""
# The connections' pipelined requests are far more than the default per-address limit allows.
HIGH_LIMITS = """
rate_limits:
  per_address: {rate: 100000, burst: 100000}
"""
SOFT_NOFILE = 256  # the gateway starts with this soft limit, below the connections opened here
SLOW = 300
WAIT = 120  # the deadline of every wait below


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    g = Gateway(tmp_path_factory.mktemp("slow-clients"), server_yaml=LIMITS, extra_yaml=HIGH_LIMITS,
                command_prefix=["prlimit", f"--nofile={SOFT_NOFILE}:"]).start()
    yield g
    assert g.stop() == 0


@pytest.fixture
def alice(token):
    return {"Authorization": f"Bearer {token('alice')}"}


def open_connections(gw):
    text = requests.get(gw.url + "/metrics", timeout=30).text
    line = next(l for l in text.splitlines() if l.startswith("portico_http_open_connections "))
    return int(line.split()[1]) - 1  # not counting the connection that asked


def wait_for(predicate, what):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {WAIT} s")


def test_the_open_file_soft_limit_is_raised_to_the_hard_limit(gw):
    line = next(l for l in open(f"/proc/{gw.proc.pid}/limits") if l.startswith("Max open files"))
    soft, hard = line.split()[3:5]
    assert soft == hard and int(soft) > SOFT_NOFILE, line
    assert any("open files: soft limit raised from 256" in l for l in gw.log_lines())


def test_a_header_trickle_is_cut_at_the_header_deadline(gw):
    conn = Slow(gw, "header")
    t = Trickle([conn])
    try:
        wait_for(t.all_closed, "the server closing a connection whose headers never end")
    finally:
        t.close()
    assert conn.received == b"" and conn.sent > 0  # no answer: the request never was one


def test_a_body_trickle_is_cut_with_408(gw):
    conn = Slow(gw, "body")
    t = Trickle([conn])
    try:
        wait_for(t.all_closed, "the server closing a connection whose body never ends")
    finally:
        t.close()
    assert conn.received.startswith(b"HTTP/1.1 408"), conn.received[:200]
    assert b"Connection: close" in conn.received and b'"errorType":"error"' in conn.received


def test_an_upload_trickle_is_cut_and_leaves_nothing(gw, alice, ssh):
    directory = f"/home/alice/slow-{uuid.uuid4().hex[:8]}"
    assert ssh.run("alice", f"mkdir {directory}").returncode == 0
    conn = Slow(gw, "upload", auth=alice, directory=directory)
    t = Trickle([conn])
    try:
        wait_for(t.all_closed, "the server closing an upload slower than min_upload_rate")
    finally:
        t.close()
    assert conn.received.startswith(b"HTTP/1.1 408"), conn.received[:300]
    assert conn.sent > 0
    # No target, and (once the gateway has cleaned up) no temporary file either.
    wait_for(lambda: ssh.run("alice", f"ls -A {directory}").stdout == "", "the upload's files removed")
    ssh.run("alice", f"rmdir {directory}")


def test_a_client_that_never_reads_is_cut_at_the_write_deadline(gw):
    before = open_connections(gw)
    conn = Slow(gw, "reader")
    try:
        wait_for(lambda: open_connections(gw) <= before, "the server closing a connection that never reads")
        # It was cut: what arrived ends well before the hundred replies it asked for.
        conn.sock.setblocking(True)
        conn.sock.settimeout(WAIT)
        got = b""
        try:
            while chunk := conn.sock.recv(1 << 20):
                got += chunk
        except ConnectionResetError:
            pass
    finally:
        conn.sock.close()
    assert got.startswith(b"HTTP/1.1 200") and got.count(b"HTTP/1.1 200") < 100


def test_hundreds_of_slow_clients_do_not_stop_a_normal_one(gw, alice):
    before = open_connections(gw)
    kinds = ["header", "body", "reader"]
    conns = [Slow(gw, kinds[i % 3]) for i in range(SLOW)]
    t = Trickle(conns)
    try:
        # All held at once, more than the soft limit of open files the gateway started with...
        wait_for(lambda: open_connections(gw) >= before + SLOW, f"{SLOW} slow connections open")
        # ...and a normal client is served meanwhile, with and without a token.
        assert requests.get(gw.url + "/status/liveness/", timeout=WAIT).status_code == 200
        r = requests.get(gw.url + "/status/hpc/userinfo", headers=alice, timeout=WAIT)
        assert r.status_code == 200, r.text
        # Then the server closes every one of them.
        wait_for(t.all_closed, "every trickling connection closed by the server")
        wait_for(lambda: open_connections(gw) <= before, "every slow connection closed by the server")
    finally:
        t.close()
    assert all(c.received.startswith(b"HTTP/1.1 408") for c in conns if c.kind == "body")
