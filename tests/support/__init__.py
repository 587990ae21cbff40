"""Helpers shared by the tests, imported by package path (``from tests.support.graphs import ...``).

Fixtures live in ``tests/conftest.py``; this package holds plain functions and data paths only.
"""
