"""Issue 10, defect 8: owner-only server files, the real Bolt port advertised, read-only cypher."""

from __future__ import annotations

import json
import stat
import urllib.request

import pytest
from typer.testing import CliRunner

from sparsetopo.cli.main import app

runner = CliRunner()


def test_server_home_is_owner_only(managed_server):
    home = managed_server.home
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    auth = managed_server.data_dir / "dbms" / "auth.ini"
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    exposed = []
    for top in ("conf", "data", "logs", "run", "password"):
        root = home / top
        for path in [root, *(root.rglob("*") if root.is_dir() else [])]:
            if not path.is_symlink() and path.stat().st_mode & 0o077:
                exposed.append(f"{path} {oct(stat.S_IMODE(path.stat().st_mode))}")
    assert exposed == []


def test_http_discovery_advertises_the_real_bolt_port(managed_server):
    url = f"http://127.0.0.1:{managed_server.settings.http_port}/"
    with urllib.request.urlopen(url, timeout=10) as response:
        doc = json.loads(response.read())
    port = managed_server.settings.bolt_port
    assert doc["bolt_direct"] == f"bolt://127.0.0.1:{port}"
    assert doc["bolt_routing"] == f"neo4j://127.0.0.1:{port}"


@pytest.mark.parametrize("statement", [
    "CREATE (:SecurityProbe)",
    "MATCH (r:Run) SET r.probe = 1",
    "CALL { CREATE (:SecurityProbe) } IN TRANSACTIONS",
])
def test_cypher_is_read_only_without_write(driver, statement):
    result = runner.invoke(app, ["cypher", statement])
    assert result.exit_code == 1 and "--write" in result.stderr
    records, _, _ = driver.execute_query(
        "OPTIONAL MATCH (p:SecurityProbe) WITH count(p) AS probes "
        "OPTIONAL MATCH (r:Run) WHERE r.probe IS NOT NULL RETURN probes, count(r) AS runs")
    assert (records[0]["probes"], records[0]["runs"]) == (0, 0)


def test_cypher_writes_with_write(driver):
    result = runner.invoke(app, ["cypher", "--write", "CREATE (p:SecurityProbe) RETURN 1 AS n"])
    assert result.exit_code == 0, result.output
    records, _, _ = driver.execute_query("MATCH (p:SecurityProbe) DELETE p RETURN count(p) AS n")
    assert records[0]["n"] == 1
