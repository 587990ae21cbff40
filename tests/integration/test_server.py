"""The managed local Neo4j against the real server: lifecycle, security, and the errors users see.

The session server (conftest ``managed_server``) serves the Cypher, credential and network checks.
Lifecycle and failure cases run on throw-away homes under tmp_path with ports picked at runtime;
their lib/ and plugins/ are symlinks to the session server's jars, so nothing is downloaded.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import stat
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sparsetopo.errors import ServerError
from sparsetopo.graphstore.connection import open_driver
from sparsetopo.server.config import ConnectionInfo, neo4j_overrides
from sparsetopo.server.process import ManagedServer
from tests.support.net import free_ports, is_loopback, listening_addresses, small_settings

runner = CliRunner()


# -- helpers -------------------------------------------------------------------------------------
def make_home(root: Path, source: ManagedServer) -> Path:
    """A fresh home that shares the installed jars of `source` (no Maven copy)."""
    home = root / "home"
    home.mkdir()
    (home / "lib").symlink_to(source.lib_dir, target_is_directory=True)
    (home / "plugins").symlink_to(source.plugins_dir, target_is_directory=True)
    return home


def cli_env(server: ManagedServer) -> dict[str, str]:
    s = server.settings
    return {
        "SPARSETOPO_HOME": str(server.home),
        "SPARSETOPO_BOLT_PORT": str(s.bolt_port),
        "SPARSETOPO_HTTP_PORT": str(s.http_port),
        "SPARSETOPO_HEAP": s.heap,
        "SPARSETOPO_PAGECACHE": s.pagecache,
    }


def cli(args: list[str], env: dict[str, str]):
    from sparsetopo.cli.main import app

    result = runner.invoke(app, args, env=env)
    return result


def squeezed(text: str) -> str:
    """Output without whitespace, so a secret wrapped by rich would still be found."""
    return re.sub(r"\s+", "", text)


def connect_refused(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(3)
        try:
            sock.connect((host, port))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        return False


@pytest.fixture
def throwaway(tmp_path, managed_server) -> Iterator[ManagedServer]:
    """A not-yet-started server on a tmp home and free ports; stopped whatever the test does."""
    bolt, http = free_ports(2)
    server = ManagedServer(make_home(tmp_path, managed_server), small_settings(bolt, http))
    assert server.is_installed(), "the symlinked jars should count as installed"
    yield server
    server.stop(timeout=30)


# -- 1. lifecycle --------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_lifecycle_start_status_stop_restart_keeps_data(throwaway):
    """One server's whole life: start (at nice 7), status, stop, restart (at nice 0) through
    the CLI. One test, because each start of a JVM costs 10-20 s of this suite."""
    server = throwaway
    bolt, http = server.settings.bolt_port, server.settings.http_port
    assert not server.is_running()
    assert server.status().running is False

    server.settings.nice = 7
    assert server.start() is True
    status = server.status()
    assert status.running is True
    assert isinstance(status.pid, int) and status.pid > 0
    cmdline = Path(f"/proc/{status.pid}/cmdline").read_bytes().decode()
    assert "org.neo4j.server.CommunityEntryPoint" in cmdline
    assert f"--home-dir={server.home}" in cmdline
    assert status.bolt_uri == f"bolt://127.0.0.1:{bolt}"
    assert status.browser_url == f"http://127.0.0.1:{http}/browser/"
    assert status.version is not None and re.fullmatch(r"5\.26\.\d+", status.version)
    assert status.data_dir == str(server.home / "data")
    assert status.home == str(server.home)
    assert status.installed is True
    assert status.store_bytes > 0

    # A second start is a no-op on the same process.
    assert server.start() is False
    assert server.pid() == status.pid

    # The password file is private and never shown by status/start; `password` prints it.
    password = server.password()
    assert len(password) >= 20
    mode = stat.S_IMODE(server.password_file.stat().st_mode)
    assert mode == 0o600, oct(mode)
    env = cli_env(server)
    for args in (["server", "status"], ["server", "status", "--json"], ["server", "start"]):
        result = cli(args, env)
        assert result.exit_code == 0, result.output
        assert password not in squeezed(result.output), f"{args} printed the password"
    assert f"pid {status.pid}" in cli(["server", "status"], env).output
    assert "already runs" in cli(["server", "start"], env).output
    shown = cli(["server", "password"], env)
    assert shown.exit_code == 0
    assert shown.stdout == password + "\n"

    token = uuid.uuid4().hex
    drv, _ = open_driver(server.connection())
    try:
        drv.execute_query("CREATE (:LifecycleProbe {token: $token})", token=token)
    finally:
        drv.close()
    # every thread runs at the nice value, also the Bolt threads that served this: the pid is
    # the JVM's own (nice execs it). nice adds to the suite's own: under `nice -n 10` it is 17
    assert _thread_nice_values(status.pid) == {min(19, os.nice(0) + 7)}

    pid = status.pid
    assert server.stop() is True
    after = server.status()
    assert after.running is False and after.pid is None
    assert not server.pid_file.exists()
    assert not Path(f"/proc/{pid}").exists() or _state(pid) == "Z"
    assert connect_refused("127.0.0.1", bolt)
    assert connect_refused("127.0.0.1", http)
    with pytest.raises(ServerError, match="cannot reach"):
        open_driver(server.connection())
    assert server.stop() is False

    # Restart through the CLI, at normal priority: the node survived, and the output still
    # holds no password.
    result = cli(["server", "start", "--nice", "0"], env)
    assert result.exit_code == 0, result.output
    assert "Neo4j is up" in result.output
    assert password not in squeezed(result.output)
    assert server.is_running()
    drv, _ = open_driver(server.connection())
    try:
        records, _, _ = drv.execute_query(
            "MATCH (n:LifecycleProbe {token: $token}) RETURN count(n) AS c", token=token
        )
    finally:
        drv.close()
    assert records[0]["c"] == 1
    assert _thread_nice_values(server.pid() or -1) == {os.nice(0)}
    assert server.stop() is True
    assert not server.is_running()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return "gone"


# -- 2. Cypher round trip ------------------------------------------------------------------------
def test_cypher_round_trip(driver):
    token = uuid.uuid4().hex
    weights = [0.5, -1.25, 3.0]
    summary = driver.execute_query(
        "CREATE (n:RoundTrip {token: $token, weights: $weights, layer: $layer})",
        token=token, weights=weights, layer=3,
    ).summary
    assert summary.counters.nodes_created == 1
    records, _, _ = driver.execute_query(
        "MATCH (n:RoundTrip {token: $token}) RETURN n.weights AS w, n.layer AS l", token=token
    )
    assert len(records) == 1
    assert records[0]["w"] == weights and records[0]["l"] == 3
    deleted = driver.execute_query(
        "MATCH (n:RoundTrip {token: $token}) DELETE n", token=token
    ).summary.counters.nodes_deleted
    assert deleted == 1
    records, _, _ = driver.execute_query(
        "MATCH (n:RoundTrip {token: $token}) RETURN count(n) AS c", token=token
    )
    assert records[0]["c"] == 0


def test_extra_neo4j_settings_reach_the_server(driver):
    # scripts/test.sh gives its servers SPARSETOPO_NEO4J_SETTINGS; Neo4j must run with them
    wanted = neo4j_overrides()
    if not wanted:
        pytest.skip("SPARSETOPO_NEO4J_SETTINGS is not set for this run")
    records, _, _ = driver.execute_query(
        "CALL dbms.listConfig() YIELD name, value WHERE name IN $names RETURN name, value",
        names=list(wanted),
    )
    assert {r["name"]: r["value"] for r in records} == wanted


# -- 3. credentials and reachability errors ------------------------------------------------------
def test_wrong_password_is_rejected_with_the_fix(managed_server):
    info = ConnectionInfo(managed_server.bolt_uri, "neo4j", "wrong", None, managed=False)
    with pytest.raises(ServerError) as exc:
        open_driver(info)
    message = str(exc.value)
    assert "wrong credentials" in message
    assert managed_server.bolt_uri in message
    assert "NEO4J_USER" in message and "NEO4J_PASSWORD" in message
    assert "wrong" not in message.replace("wrong credentials", "")  # the password is not echoed

    managed = ConnectionInfo(managed_server.bolt_uri, "neo4j", "wrong", None, managed=True)
    with pytest.raises(ServerError, match=r"wrong credentials.*password file"):
        open_driver(managed)


# -- 4. loopback only ----------------------------------------------------------------------------
def _non_loopback_ipv4() -> list[str]:
    found: set[str] = set()
    if shutil.which("ip"):
        out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
        found.update(re.findall(r"\binet (\d+\.\d+\.\d+\.\d+)/", out))
    else:
        text = Path("/proc/net/fib_trie").read_text()
        found.update(re.findall(r"\|-- (\d+\.\d+\.\d+\.\d+)\n\s+/32 host LOCAL", text))
    return sorted(a for a in found if not ipaddress.IPv4Address(a).is_loopback)


def test_server_listens_on_loopback_only(managed_server):
    ports = {"Bolt": managed_server.settings.bolt_port, "HTTP": managed_server.settings.http_port}
    for name, port in ports.items():
        listeners = listening_addresses(port)
        assert listeners, f"nothing listens on {name} port {port}"
        assert all(is_loopback(a) for a in listeners), f"{name} listens on {listeners}"
        assert not connect_refused("127.0.0.1", port)

    addresses = _non_loopback_ipv4()
    if not addresses:
        pytest.skip("this machine has no non-loopback IPv4 address to probe")
    for address in addresses:
        for name, port in ports.items():
            assert connect_refused(address, port), f"{name} port {port} answers on {address}"


# -- 5. port in use ------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["bolt", "http"])
def test_port_in_use_names_the_port_and_the_fix(tmp_path, managed_server, which):
    bolt, http = free_ports(2)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", bolt if which == "bolt" else http))
        blocker.listen(1)
        server = ManagedServer(make_home(tmp_path, managed_server), small_settings(bolt, http))
        with pytest.raises(ServerError) as exc:
            server.start()
    message = str(exc.value)
    busy = bolt if which == "bolt" else http
    assert f"port {busy}" in message and "already in use" in message
    if which == "bolt":
        assert "--bolt-port" in message and "SPARSETOPO_BOLT_PORT" in message
    else:
        assert "--http-port" in message and "SPARSETOPO_HTTP_PORT" in message
    assert not server.is_running()
    assert not server.password_file.exists()  # refused before anything was set up


# -- 6. server exiting at start ------------------------------------------------------------------
@pytest.mark.timeout(120)
def test_server_exiting_at_start_shows_the_log_lines(tmp_path, managed_server):
    bolt, http = free_ports(2)
    # Neo4j's config accepts "1k", the JVM does not: the process dies right after launch.
    server = ManagedServer(make_home(tmp_path, managed_server), small_settings(bolt, http, "1k"))
    try:
        with pytest.raises(ServerError) as exc:
            server.start(timeout=60)
    finally:
        server.stop(timeout=10)
    message = str(exc.value)
    assert "exited at start" in message
    assert "console.log" in message
    assert "Too small" in message and "heap" in message  # the JVM's own words, from console.log
    assert not server.is_running()
    assert not server.pid_file.exists()


def test_invalid_memory_setting_is_reported_with_its_cause(tmp_path, managed_server):
    bolt, http = free_ports(2)
    server = ManagedServer(make_home(tmp_path, managed_server), small_settings(bolt, http, "1x"))
    with pytest.raises(ServerError) as exc:
        server.start(timeout=60)
    message = str(exc.value)
    assert "server.memory.heap" in message
    assert "'1x' is not a valid size" in message
    assert "\tat " not in message  # the cause, not the stack frames
    assert not server.is_running()


def _thread_nice_values(pid: int) -> set[int]:
    """The nice value of every thread of `pid`, read from /proc (field 19 of stat)."""
    values = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        values.add(int(fields[16]))
    return values


@pytest.mark.parametrize("value", [-1, 20, "5", True])
def test_invalid_nice_is_refused_before_starting(tmp_path, managed_server, value):
    bolt, http = free_ports(2)
    settings = small_settings(bolt, http)
    settings.nice = value
    server = ManagedServer(make_home(tmp_path, managed_server), settings)
    with pytest.raises(ServerError, match=r"nice value .* from 0 \(normal priority\) to 19"):
        server.start(timeout=60)
    assert not server.is_running()
    assert not server.pid_file.exists()
