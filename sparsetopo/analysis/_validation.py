"""Argument checks shared by the analysis modules.

Every public analysis function validates its arguments before doing any work and raises
:class:`~sparsetopo.errors.InputError` with a one-line message that names the parameter and
the fix. These helpers keep those messages uniform:

* :func:`choice` -- a string option from a fixed set (``mode``, ``method``, ``ties``, ...);
* :func:`int_at_least` / :func:`number_in_range` -- counts and fractions;
* :func:`signed_graph` / :func:`layered_graph` -- the graph type a function needs;
* :func:`rng` -- one :class:`numpy.random.Generator` from a seed or a generator.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any, TypeVar

import numpy as np

from sparsetopo.analysis.graphs import LayeredGraph, SignedGraph
from sparsetopo.errors import InputError

T = TypeVar("T")

#: What :func:`rng` accepts: a seed, a generator, or None for fresh OS entropy.
SeedLike = int | np.random.Generator | None


def choice(name: str, value: T, allowed: Iterable[T]) -> T:
    """Return ``value`` if it is one of ``allowed``, else raise an error listing the choices.

    Parameters
    ----------
    name : str
        Parameter name, used in the message.
    value : object
        The value given.
    allowed : iterable
        The accepted values, in the order the message lists them.

    Returns
    -------
    object
        ``value`` unchanged.

    Raises
    ------
    InputError
        If ``value`` is not in ``allowed``.

    Examples
    --------
    >>> choice("mode", "paper", ("pooled", "paper"))
    'paper'
    >>> choice("mode", "bogus", ("pooled", "paper"))
    Traceback (most recent call last):
    ...
    sparsetopo.errors.InputError: unknown mode 'bogus'; use 'pooled' or 'paper'
    """
    options = tuple(allowed)
    if value not in options:
        listed = [repr(o) for o in options]
        text = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " or " + listed[-1]
        raise InputError(f"unknown {name} {value!r}; use {text}")
    return value


def int_at_least(name: str, value: Any, minimum: int) -> int:
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum``.

    Parameters
    ----------
    name : str
        Parameter name, used in the message.
    value : int
        The value given (``bool`` is refused).
    minimum : int
        Smallest accepted value.

    Returns
    -------
    int
        ``int(value)``.

    Raises
    ------
    InputError
        If ``value`` is not an integer or is smaller than ``minimum``.

    Examples
    --------
    >>> int_at_least("n_null", 100, 1)
    100
    >>> int_at_least("n_null", 0, 1)
    Traceback (most recent call last):
    ...
    sparsetopo.errors.InputError: n_null must be an integer >= 1 (got 0)
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum} (got {value!r})")
    return int(value)


def number_in_range(
    name: str, value: Any, low: float, high: float, *, low_open: bool = False
) -> float:
    """Return ``value`` as a ``float`` if it is a finite number in ``[low, high]``.

    Parameters
    ----------
    name : str
        Parameter name, used in the message.
    value : float
        The value given.
    low, high : float
        Bounds; ``high`` is always included.
    low_open : bool, default False
        Exclude ``low`` itself.

    Returns
    -------
    float
        ``float(value)``.

    Raises
    ------
    InputError
        If ``value`` is not a finite real number inside the range.

    Examples
    --------
    >>> number_in_range("swaps_per_edge", 10, 0, math.inf, low_open=True)
    10.0
    >>> number_in_range("fraction", 1.5, 0, 1)
    Traceback (most recent call last):
    ...
    sparsetopo.errors.InputError: fraction must be a number in [0, 1] (got 1.5)
    """
    bracket = "(" if low_open else "["
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or math.isnan(float(value))
        or float(value) > high
        or float(value) < low
        or (low_open and float(value) == low)
    ):
        raise InputError(f"{name} must be a number in {bracket}{low:g}, {high:g}] (got {value!r})")
    return float(value)


def signed_graph(value: Any, what: str = "this function") -> SignedGraph:
    """Return ``value`` if it is a :class:`~sparsetopo.analysis.SignedGraph`.

    Parameters
    ----------
    value : object
        The graph given.
    what : str, optional
        The function or parameter that needs the graph, used in the message.

    Returns
    -------
    SignedGraph
        ``value`` unchanged.

    Raises
    ------
    InputError
        If ``value`` is not a SignedGraph; the message says how to build one.

    Examples
    --------
    >>> signed_graph([[0, 1], [0, 0]], "triad_census")
    Traceback (most recent call last):
    ...
    sparsetopo.errors.InputError: triad_census needs a SignedGraph (got list); build one with SignedGraph.from_edges or SignedGraph.from_matrix
    """
    if not isinstance(value, SignedGraph):
        raise InputError(
            f"{what} needs a SignedGraph (got {type(value).__name__}); build one with "
            "SignedGraph.from_edges or SignedGraph.from_matrix"
        )
    return value


def layered_graph(value: Any, what: str = "this function") -> LayeredGraph:
    """Return ``value`` if it is a :class:`~sparsetopo.analysis.LayeredGraph`.

    Parameters
    ----------
    value : object
        The graph given.
    what : str, optional
        The function or parameter that needs the graph, used in the message.

    Returns
    -------
    LayeredGraph
        ``value`` unchanged.

    Raises
    ------
    InputError
        If ``value`` is not a LayeredGraph; the message says how to build one.

    Examples
    --------
    >>> layered_graph(None, "layered_motifs")
    Traceback (most recent call last):
    ...
    sparsetopo.errors.InputError: layered_motifs needs a LayeredGraph (got NoneType); build one with LayeredGraph.from_matrices([W0, W1, ...])
    """
    if not isinstance(value, LayeredGraph):
        raise InputError(
            f"{what} needs a LayeredGraph (got {type(value).__name__}); build one with "
            "LayeredGraph.from_matrices([W0, W1, ...])"
        )
    return value


def rng(seed: SeedLike) -> np.random.Generator:
    """Return a random generator for ``seed``.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        An integer seed (reproducible), a generator (used as is, so that several calls share
        one stream) or None (fresh entropy from the operating system).

    Returns
    -------
    numpy.random.Generator
        The generator.

    Raises
    ------
    InputError
        If ``seed`` is neither an integer, a generator nor None.

    Examples
    --------
    >>> int(rng(0).integers(1000)) == int(np.random.default_rng(0).integers(1000))
    True
    >>> g = np.random.default_rng(1)
    >>> rng(g) is g
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, Integral)):
        raise InputError(f"seed must be an integer, a numpy Generator or None (got {seed!r})")
    return np.random.default_rng(seed)
