"""Which snapshot writer is requested: argument, then $SPARSETOPO_WRITER, then auto."""

from __future__ import annotations

import pytest

from sparsetopo.errors import InputError
from sparsetopo.graphstore.backend import requested_writer


def test_argument_beats_environment(monkeypatch):
    monkeypatch.setenv("SPARSETOPO_WRITER", "cypher")
    assert requested_writer("plugin") == "plugin"
    assert requested_writer(None) == "cypher"
    monkeypatch.delenv("SPARSETOPO_WRITER")
    assert requested_writer(None) == "auto"
    assert requested_writer(" Plugin ") == "plugin"


def test_unknown_writer_names_the_source(monkeypatch):
    with pytest.raises(InputError, match="writer argument is 'fast'; use one of auto, plugin, cypher"):
        requested_writer("fast")
    monkeypatch.setenv("SPARSETOPO_WRITER", "java")
    with pytest.raises(InputError, match=r"\$SPARSETOPO_WRITER is 'java'"):
        requested_writer(None)
