"""Starts the real portico binary against the demo site for the functional tests."""
import json
import os
import pathlib
import signal
import socket
import subprocess
import time

import requests

from conftest import PORTICO, ROOT


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gateway:
    """extra_yaml is appended at the top level; server_yaml goes into the `server:` section.
    command_prefix runs the binary under another command (e.g. `prlimit --nofile=256:`)."""

    def __init__(self, workdir: pathlib.Path, extra_yaml: str = "", port=None, env=None, server_yaml: str = "",
                 command_prefix=()):
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "portico.yaml"
        subprocess.run([str(ROOT / "site" / "gateway-config"), str(self.config), str(self.port)],
                       check=True, capture_output=True, env={**os.environ, **(env or {})})
        text = self.config.read_text()
        if server_yaml:
            indented = "".join("  " + line + "\n" for line in server_yaml.splitlines())
            text = text.replace("\nserver:\n", "\nserver:\n" + indented, 1)
        self.config.write_text(text + extra_yaml)
        self.command_prefix = list(command_prefix)
        self.log = workdir / "portico.log"
        self.proc = None

    def start(self, timeout=30, scheme="http", verify=True, root=""):
        self.url = f"{scheme}://127.0.0.1:{self.port}{root}"
        self.log_file = open(self.log, "ab")
        self.proc = subprocess.Popen(self.command_prefix + [str(PORTICO), "--config", str(self.config)],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"portico exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/status/liveness/", timeout=2, verify=verify).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.1)
        raise RuntimeError("portico did not answer in time:\n" + self.log.read_text()[-3000:])

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log_file.close()
        return self.proc.returncode if self.proc else None

    def log_lines(self):
        return self.log.read_text(errors="replace").splitlines()

    def audit_line(self, request_id, timeout=5):
        """The audit line of one request (written just after its reply, so waited for)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [json.loads(l) for l in self.log_lines() if l.startswith("{") and f'"{request_id}"' in l]
            if lines or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert lines, f"no audit line for request {request_id}"
        return lines[-1]
