"""A uniqueness constraint whose creation a killed server left half done is finished.

Neo4j builds a uniqueness constraint as its backing index first and the owning constraint
second; the short fault campaign once killed the server in between, leaving an index named
``neuron_key`` without its constraint, and every later writer failed with "There already exists
an index called 'neuron_key'". The state is rebuilt here by hand: the constraint dropped and a
plain index of the same name and schema created in its place.
"""

from __future__ import annotations

import pytest

from sparsetopo.graphstore import schema

pytestmark = pytest.mark.integration


def _constraint(driver, name: str) -> list[dict]:
    records, _, _ = driver.execute_query(
        "SHOW CONSTRAINTS YIELD name, type, ownedIndex WHERE name = $name "
        "RETURN name, type, ownedIndex", name=name)
    return [r.data() for r in records]


def test_left_over_backing_index_is_replaced_by_the_constraint(driver, monkeypatch):
    monkeypatch.setattr(schema, "ORPHAN_WAIT_S", 0.5)
    driver.execute_query("DROP CONSTRAINT neuron_key IF EXISTS")
    driver.execute_query("CREATE INDEX neuron_key FOR (n:Neuron) ON (n.run_id, n.layer, n.index)")
    try:
        # what every writer met after the kill (the statement alone, as the writers send it)
        statement = next(s for s in schema.SCHEMA_STATEMENTS if "neuron_key" in s)
        with pytest.raises(Exception, match="already exists an index called 'neuron_key'"):
            driver.execute_query(statement)
        schema._ensured.pop(driver, None)  # this driver ensured the schema before the damage
        schema.ensure_schema(driver)
    finally:
        schema._ensured.pop(driver, None)
        schema.ensure_schema(driver)  # the shared test database keeps its schema either way
    assert _constraint(driver, "neuron_key") == [
        {"name": "neuron_key", "type": "UNIQUENESS", "ownedIndex": "neuron_key"}]


def test_a_constraint_another_writer_finishes_is_not_touched(driver, monkeypatch):
    """No orphan to repair: the constraint exists, so the repair reports success at once."""
    monkeypatch.setattr(schema, "ORPHAN_WAIT_S", 0.5)
    statement = next(s for s in schema.SCHEMA_STATEMENTS if "neuron_key" in s)
    assert schema._repair_orphan(driver, statement, None) is True
    assert _constraint(driver, "neuron_key")[0]["ownedIndex"] == "neuron_key"
