"""The portico binary's command line: version and configuration checking."""
import subprocess

from conftest import PORTICO, ROOT


def run(*args):
    return subprocess.run([str(PORTICO), *args], capture_output=True, text=True, timeout=30)


def test_version_names_the_firecrest_api_version():
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.startswith("portico ")
    assert "FirecREST API 2.5.6" in r.stdout


def test_check_accepts_the_demo_sites_configuration(site, tmp_path):
    cfg = tmp_path / "portico.yaml"
    subprocess.run([str(ROOT / "site" / "gateway-config"), str(cfg)], check=True, capture_output=True)
    r = run("--config", str(cfg), "--check")
    assert r.returncode == 0, r.stderr
    assert "OK (1 cluster(s))" in r.stdout


def test_check_names_each_offending_key(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(
        "auth: {issuer: 'http://idp', audience: a, username_claim: 7, colour: blue}\n"
        "ssh_ca: {private_key_file: ca}\n"
        "clusters:\n"
        "  - name: hpc\n"
        "    ssh: {host: 127.0.0.1, port: 70000, host_public_key: missing.pub}\n"
        "    file_systems: [{path: home}]\n")
    r = run("--config", str(cfg), "--check")
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert any(": auth.colour: unknown key" in line for line in lines), r.stderr
    assert any(": clusters[0].ssh.port: expected an integer in 1..65535, got \"70000\"" in line for line in lines)
    assert any(": clusters[0].ssh.host_public_key: neither an OpenSSH public key" in line for line in lines)
    assert any(": clusters[0].file_systems[0].path: must be an absolute path" in line for line in lines)
    assert "configuration has 4 error(s)" in r.stderr


def test_check_reports_an_unreadable_file_and_broken_yaml(tmp_path):
    r = run("--config", str(tmp_path / "absent.yaml"), "--check")
    assert r.returncode == 1 and "cannot read configuration file" in r.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("auth: [unclosed\n")
    r = run("--config", str(broken), "--check")
    assert r.returncode == 1 and "not valid YAML" in r.stderr


def test_unknown_argument_is_a_usage_error():
    r = run("--frobnicate")
    assert r.returncode == 2 and "unknown argument" in r.stderr
