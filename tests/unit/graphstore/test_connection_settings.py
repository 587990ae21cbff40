"""Scale-out settings that need no server: the retry bound, the database of the managed server,
and choosing an executor."""

from __future__ import annotations

import pytest

from sparsetopo.api.executors import LocalExecutor, make_executor
from sparsetopo.errors import InputError, ServerError
from sparsetopo.graphstore.connection import (
    MAX_RETRY_SECONDS,
    max_retry_seconds,
    resolve_connection,
)


def test_retry_bound_from_environment(monkeypatch):
    monkeypatch.delenv("SPARSETOPO_MAX_RETRY_SECONDS", raising=False)
    assert max_retry_seconds() == MAX_RETRY_SECONDS == 30.0
    monkeypatch.setenv("SPARSETOPO_MAX_RETRY_SECONDS", "7.5")
    assert max_retry_seconds() == 7.5
    monkeypatch.setenv("SPARSETOPO_MAX_RETRY_SECONDS", "0")
    assert max_retry_seconds() == 0.0
    for bad in ("-1", "soon", "nan"):
        monkeypatch.setenv("SPARSETOPO_MAX_RETRY_SECONDS", bad)
        with pytest.raises(ServerError, match="SPARSETOPO_MAX_RETRY_SECONDS"):
            max_retry_seconds()


def test_neo4j_database_applies_to_external_and_managed(monkeypatch, tmp_path):
    monkeypatch.setenv("SPARSETOPO_HOME", str(tmp_path))  # a home of its own: nothing starts
    (tmp_path / "password").write_text("pw\n")
    (tmp_path / "password").chmod(0o600)
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.setenv("NEO4J_DATABASE", "runs2")
    info = resolve_connection(start=False)
    assert info.managed and info.database == "runs2"
    monkeypatch.delenv("NEO4J_DATABASE")
    assert resolve_connection(start=False).database is None
    monkeypatch.setenv("NEO4J_URI", "neo4j://db.example:7687")
    monkeypatch.setenv("NEO4J_PASSWORD", "x")
    monkeypatch.setenv("NEO4J_DATABASE", "runs3")
    info = resolve_connection(start=False)
    assert (info.uri, info.database, info.managed) == ("neo4j://db.example:7687", "runs3", False)


def test_make_executor_choices():
    assert isinstance(make_executor(None, workers=3), LocalExecutor)
    assert make_executor("local", workers=3).workers == 3
    custom = LocalExecutor(1)
    assert make_executor(custom) is custom
    with pytest.raises(InputError, match="needs --scheduler"):
        make_executor("dask")
    with pytest.raises(InputError, match="unknown executor 'ray'"):
        make_executor("ray")
    with pytest.raises(InputError, match="--scheduler is for --executor dask"):
        make_executor("local", scheduler="tcp://h:8786")
    with pytest.raises(InputError, match="not int"):
        make_executor(3)
