"""The Cypher library: one question per ``cypher/*.cypher`` file, loaded by :mod:`.library`."""
