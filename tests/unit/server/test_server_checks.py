"""Server checks that need no running server: unreachable servers, nice values, Java and Maven.

The server's own lifecycle and network tests are in tests/integration/test_server.py.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sparsetopo.errors import ServerError
from sparsetopo.graphstore.connection import open_driver
from sparsetopo.server.config import ConnectionInfo, ServerSettings, neo4j_overrides
from sparsetopo.server.process import ManagedServer, java_version
from tests.support.net import decode_proc_addr, free_ports, is_loopback, small_settings

runner = CliRunner()


def cli(args: list[str], env: dict[str, str]):
    from sparsetopo.cli.main import app

    return runner.invoke(app, args, env=env)


def test_unreachable_server_names_the_fix():
    (port,) = free_ports(1)
    info = ConnectionInfo(f"bolt://127.0.0.1:{port}", "neo4j", "x", None, managed=True)
    with pytest.raises(ServerError) as exc:
        open_driver(info)
    assert "cannot reach" in str(exc.value)
    assert "sparsetopo server start" in str(exc.value)


def test_proc_address_decoding():
    assert decode_proc_addr("0100007F") == ipaddress.IPv4Address("127.0.0.1")
    assert decode_proc_addr("00000000") == ipaddress.IPv4Address("0.0.0.0")
    mapped = decode_proc_addr("0000000000000000FFFF00000100007F")
    assert is_loopback(mapped)
    assert not is_loopback(decode_proc_addr("00000000000000000000000000000000"))
    assert not is_loopback(decode_proc_addr("0200000A"))  # 10.0.0.2


@pytest.mark.parametrize("value", ["x", "25"])
def test_invalid_nice_environment_names_the_variable(tmp_path, monkeypatch, value):
    monkeypatch.setenv("SPARSETOPO_NICE", value)
    with pytest.raises(ServerError, match="SPARSETOPO_NICE"):
        ServerSettings.load(tmp_path)


def test_nice_from_the_environment_and_the_cli_option(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSETOPO_NICE", "12")
    assert ServerSettings.load(tmp_path).nice == 12
    monkeypatch.delenv("SPARSETOPO_NICE")
    assert ServerSettings.load(tmp_path).nice == 0
    result = cli(["server", "start", "--nice", "20"], {"SPARSETOPO_HOME": str(tmp_path)})
    assert result.exit_code == 2  # a usage error: out of the option's range, nothing started
    assert "--nice" in result.output


@pytest.mark.parametrize(("raw", "expected"), [
    ("", {}),
    ("dbms.cypher.min_replan_interval=1h", {"dbms.cypher.min_replan_interval": "1h"}),
    (" db.a_b=1 ; ; internal.x.y=a=b ;", {"db.a_b": "1", "internal.x.y": "a=b"}),
])
def test_neo4j_settings_from_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("SPARSETOPO_NEO4J_SETTINGS", raw)
    assert neo4j_overrides() == expected


@pytest.mark.parametrize(("raw", "message"), [
    ("dbms.cypher.min_replan_interval", "'dbms.cypher.min_replan_interval' is not a Neo4j"),
    ("nodots=1", "'nodots=1' is not a Neo4j setting"),
    ("db.x=", "'db.x=' is not a Neo4j setting"),
    ("db.x=1;db.x=2", "sets db.x twice"),
])
def test_bad_neo4j_settings_name_the_variable(monkeypatch, raw, message):
    monkeypatch.setenv("SPARSETOPO_NEO4J_SETTINGS", raw)
    with pytest.raises(ServerError, match="SPARSETOPO_NEO4J_SETTINGS") as exc:
        neo4j_overrides()
    assert message in str(exc.value)


def test_neo4j_settings_go_last_and_cannot_replace_sparsetopos(tmp_path, monkeypatch):
    bolt, http = free_ports(2)
    server = ManagedServer(tmp_path / "home", small_settings(bolt, http))
    monkeypatch.setenv("SPARSETOPO_NEO4J_SETTINGS", "dbms.cypher.min_replan_interval=1h")
    lines = server._config_lines()
    assert lines[-2:] == ["# From SPARSETOPO_NEO4J_SETTINGS.", "dbms.cypher.min_replan_interval=1h"]
    assert f"server.bolt.listen_address=127.0.0.1:{bolt}" in lines
    # a setting sparsetopo writes itself is refused at start, before anything is written
    monkeypatch.setenv("SPARSETOPO_NEO4J_SETTINGS", "server.memory.heap.max_size=8g;db.x.y=1")
    with pytest.raises(ServerError, match=r"sets server.memory.heap.max_size, which sparsetopo"):
        server.start(timeout=5)
    assert not (tmp_path / "home").exists()


# -- 7. missing or old Java, missing Maven -------------------------------------------------------
def _fake_java(root: Path, banner: str) -> Path:
    java_home = root / "fake-jdk"
    (java_home / "bin").mkdir(parents=True)
    java = java_home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho '{banner}' >&2\n")
    java.chmod(0o755)
    return java_home


def test_old_java_is_refused_with_the_fix(tmp_path, monkeypatch):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    java_home = _fake_java(tmp_path, 'openjdk version "11.0.2" 2019-01-15')
    monkeypatch.setenv("JAVA_HOME", str(java_home))
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ServerError) as exc:
        java_version()
    message = str(exc.value)
    assert str(java_home / "bin" / "java") in message
    assert "Java 11" in message and "17" in message
    assert "apt-get install openjdk-17" in message and "JAVA_HOME" in message


def test_java_8_version_string_is_read_as_8(tmp_path, monkeypatch):
    java_home = _fake_java(tmp_path, 'java version "1.8.0_292"')
    monkeypatch.setenv("JAVA_HOME", str(java_home))
    with pytest.raises(ServerError, match="Java 8;"):
        java_version()


def test_missing_java_is_reported_with_the_fix(tmp_path, monkeypatch):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ServerError) as exc:
        java_version()
    message = str(exc.value)
    assert "Java was not found" in message
    assert "17" in message and "apt-get install openjdk-17" in message and "JAVA_HOME" in message


def test_real_java_is_accepted():
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java installed (scripts/setup.sh installs it for the server)")
    assert java_version() >= 17


def test_missing_maven_is_reported_with_the_fix(tmp_path, monkeypatch):
    real_java = shutil.which("java")
    if real_java is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no java to get past the Java check")
    if real_java is not None:
        monkeypatch.setenv("JAVA_HOME", str(Path(real_java).resolve().parent.parent))
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    home = tmp_path / "not-installed"
    server = ManagedServer(home, small_settings(*free_ports(2)))
    assert not server.is_installed()
    with pytest.raises(ServerError) as exc:
        server.install()
    message = str(exc.value)
    assert "Maven (mvn) was not found" in message
    assert "apt-get install maven" in message
    assert "sparsetopo server install" in message
    assert not server.lib_dir.exists()


def test_missing_jdk_compiler_is_reported_with_the_fix(tmp_path, monkeypatch):
    """The plugin is compiled from source: a JRE without javac gets a message naming a JDK."""
    real_java = shutil.which("java")
    if real_java is None:
        pytest.skip("no java to get past the Java check")
    jre = tmp_path / "jre"
    (jre / "bin").mkdir(parents=True)
    (jre / "bin" / "java").symlink_to(Path(real_java).resolve())
    monkeypatch.setenv("JAVA_HOME", str(jre))
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    server = ManagedServer(tmp_path / "not-installed", small_settings(*free_ports(2)))
    with pytest.raises(ServerError) as exc:
        server.install()
    message = str(exc.value)
    assert "javac" in message and "openjdk-17-jdk-headless" in message
    assert "sparsetopo server install" in message
    assert not server.lib_dir.exists()
