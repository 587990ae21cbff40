"""The Cypher library: one question per ``cypher/<name>.cypher`` file, shipped with the package.

Every file starts with a header of ``//`` comment lines:

* the first sentence says what the query answers (the title shown by ``sparsetopo query --list``);
* further free-text lines explain details;
* ``Parameters:`` followed by ``//   name  description`` lines (or ``Parameters: none``);
* ``Columns: a, b, c`` lists the returned columns, in order;
* ``:param name => value;`` lines are the documented example parameters, ready to paste into
  Neo4j Browser.

The same text runs unchanged in Neo4j Browser, from :meth:`sparsetopo.api.store.Store.query`
and from ``sparsetopo query NAME --param k=v``.

Two conventions keep the Browser honest (docs/browser.md):

* integer parameters are read through ``toInteger()``, because ``:params {step: 200}`` in the
  Browser makes every number a float;
* the text starts with ``CALL apoc.util.validate(...)`` checks, one line each, that turn a missing
  run, step or layer into an error listing the valid ones. These need APOC; Python strips them
  (:attr:`LibraryQuery.unguarded`) and checks the same things itself before running a query, so
  the table queries run on servers without APOC. Queries that build virtual graphs
  (``apoc.create.vNode``) need APOC anyway (:attr:`LibraryQuery.needs_apoc`); their ``*_plain``
  siblings do not.

Some questions also have a variant that calls a procedure of sparsetopo's server plugin
(:data:`PLUGIN_VARIANTS`, :attr:`LibraryQuery.needs_plugin`): ``overlap_plugin`` answers
``overlap`` with the same rows. ``Store.query("overlap")`` runs the plugin variant when the server
has the plugin at the client's version and the plain Cypher otherwise (``backend_=`` forces
either; docs/queries.md).
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from sparsetopo.errors import InputError

_PARAM_LINE = re.compile(r"^:param\s+([A-Za-z_][A-Za-z0-9_]*)\s*=>\s*(.+?);?\s*$")
_PARAM_DOC = re.compile(r"^\s{2,}([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_GUARD = "CALL apoc.util.validate("
_PLUGIN_CALL = re.compile(r"\bsparsetopo\.[A-Za-z_]+\s*\(")

#: Library queries with a variant that runs in sparsetopo's server plugin: name -> variant. Both
#: return the same rows (tests/integration/test_overlap_plugin.py).
PLUGIN_VARIANTS: dict[str, str] = {"overlap": "overlap_plugin"}


@dataclass(frozen=True)
class LibraryQuery:
    """One library query: its name (file stem), title, description, documented parameters
    (name -> description), example parameters (name -> value), result columns and text."""

    name: str
    title: str
    description: str
    params: dict[str, str]
    examples: dict[str, Any]
    columns: tuple[str, ...]
    text: str = field(repr=False)

    def missing(self, given: Mapping[str, Any]) -> list[str]:
        """Documented parameters not present in ``given``."""
        return [p for p in self.params if p not in given]

    @property
    def unguarded(self) -> str:
        """The text without its ``CALL apoc.util.validate(...)`` check lines (the caller checks
        runs, steps and layers itself)."""
        return strip_guards(self.text)

    @property
    def needs_apoc(self) -> bool:
        """True when the query needs APOC even without its check lines (virtual graphs)."""
        return "apoc." in self.unguarded

    @property
    def needs_plugin(self) -> bool:
        """True when the query calls a procedure of sparsetopo's server plugin."""
        return bool(_PLUGIN_CALL.search(self.text))

    def check(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """``given`` checked against the documented parameters and the types of their
        ``:param`` examples (a step is an integer, a layer name is text, ...).

        Parameters
        ----------
        given : Mapping
            Parameter values (the CLI parses them with ``cli.common.parse_pairs``).

        Returns
        -------
        dict
            The same values (integral floats such as 200.0 become ints).

        Raises
        ------
        InputError
            A parameter is missing, unknown, null, of the wrong type or out of range; the
            message names it and shows a valid example.

        Examples
        --------
        >>> get_query("snapshots").check({"run": "zhang-prune"})
        {'run': 'zhang-prune'}
        """
        missing = self.missing(given)
        if missing:
            doc = "; ".join(f"{p}: {self.params[p]}" for p in missing)
            raise InputError(f"query {self.name!r} needs parameters {missing} ({doc})")
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            raise InputError(
                f"query {self.name!r} has no parameters {unknown}; it takes "
                f"{sorted(self.params) or 'none'}"
            )
        out = {}
        for key, value in given.items():
            example = self.examples.get(key)
            out[key] = _check_value(self.name, key, value, example)
        return out


def strip_guards(text: str) -> str:
    """``text`` without the lines that start with ``CALL apoc.util.validate(``."""
    return "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith(_GUARD))


def parse_cypher_literal(text: str) -> Any:
    """A Cypher literal as used on ``:param`` lines: 'string', "string", integers, floats,
    true/false/null and lists of those."""
    src = text.strip()
    py = re.sub(r"\btrue\b", "True", src)
    py = re.sub(r"\bfalse\b", "False", py)
    py = re.sub(r"\bnull\b", "None", py)
    try:
        return ast.literal_eval(py)
    except (ValueError, SyntaxError) as exc:
        raise InputError(f"cannot read the Cypher literal {text!r} on a :param line") from exc


def parse_query(name: str, source: str) -> LibraryQuery:
    """Split a library file into header fields and query text (see the module docstring)."""
    header: list[str] = []
    body: list[str] = []
    in_header = True
    for line in source.splitlines():
        stripped = line.strip()
        if in_header and stripped.startswith("//"):
            header.append(stripped[2:].rstrip())
            continue
        if in_header and not stripped:
            continue
        in_header = False
        body.append(line.rstrip())
    if not header:
        raise InputError(f"library query {name!r} has no header comment")
    # the title is the first sentence (it may wrap over several comment lines)
    title_lines: list[str] = []
    for line in header:
        title_lines.append(line.strip())
        if not line.strip() or line.strip().endswith("."):
            break
    title = " ".join(x for x in title_lines if x)
    description: list[str] = []
    params: dict[str, str] = {}
    examples: dict[str, Any] = {}
    columns: tuple[str, ...] = ()
    section = "text"
    for raw in header[len(title_lines):]:
        line = raw.strip()
        param_line = _PARAM_LINE.match(line)
        if param_line:
            examples[param_line.group(1)] = parse_cypher_literal(param_line.group(2))
            continue
        if line.lower().startswith("parameters:"):
            section = "params"
            continue
        if line.lower().startswith("columns:"):
            columns = tuple(c.strip() for c in line.split(":", 1)[1].split(",") if c.strip())
            section = "text"
            continue
        doc = _PARAM_DOC.match(raw)
        if section == "params" and doc:
            params[doc.group(1)] = doc.group(2).strip()
            continue
        if line and section == "text":
            description.append(line)
    text = "\n".join(body).strip().rstrip(";").strip()
    if not columns:
        raise InputError(f"library query {name!r} does not document its columns")
    undocumented = sorted(set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", text)) - set(params))
    if undocumented:
        raise InputError(f"library query {name!r} uses undocumented parameters {undocumented}")
    return LibraryQuery(
        name=name,
        title=title,
        description=" ".join(description),
        params=params,
        examples=examples,
        columns=columns,
        text=text,
    )


@lru_cache(maxsize=1)
def _load_all() -> dict[str, LibraryQuery]:
    folder = resources.files("sparsetopo.queries").joinpath("cypher")
    out: dict[str, LibraryQuery] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".cypher"):
            name = entry.name[: -len(".cypher")]
            out[name] = parse_query(name, entry.read_text(encoding="utf-8"))
    return out


def library() -> dict[str, LibraryQuery]:
    """Every library query by name, sorted by name."""
    return dict(_load_all())


def get_query(name: str) -> LibraryQuery:
    """The library query ``name`` (the file stem, e.g. "overlap")."""
    queries = _load_all()
    if not isinstance(name, str) or not _NAME.match(name) or name not in queries:
        close = difflib.get_close_matches(str(name), list(queries), n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise InputError(
            f"no library query named {name!r}; {hint}known: {', '.join(queries)}. "
            "`sparsetopo query --list` describes them."
        )
    return queries[name]


def coerce_value(text: str) -> Any:
    """A command-line parameter value: int, then float, then true/false/null, else the string
    itself (quotes stripped)."""
    value = text.strip()
    if re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    try:
        if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?|[+-]?(nan|inf)", value, re.I):
            return float(value)
    except ValueError:
        pass
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


_INT64 = (-(2**63), 2**63 - 1)


def _type_word(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _check_value(query: str, key: str, value: Any, example: Any) -> Any:
    """One library-query parameter against the type of its documented example."""
    hint = f"e.g. {key}={example!r}" if example is not None else ""
    if value is None:
        raise InputError(f"query {query!r}: parameter {key} is null; give {_type_word(example)}, "
                         f"{hint}")
    check_param_values({key: value})
    if example is None:
        return value
    if isinstance(example, bool):
        ok = isinstance(value, bool)
    elif isinstance(example, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(example, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(example, str):
        ok = isinstance(value, str)
    else:
        ok = isinstance(value, type(example))
    if not ok:
        quote = (f" If the name really is {value!r}, quote it: {key}='{value}'."
                 if isinstance(example, str) and isinstance(value, (int, float)) else "")
        raise InputError(
            f"query {query!r}: parameter {key} must be {_type_word(example)}, got "
            f"{_type_word(value)} ({value!r}); {hint}.{quote}"
        )
    return value


def check_param_values(params: Mapping[str, Any]) -> None:
    """InputError for values the database cannot take: integers outside 64 bits (also inside
    lists and maps).

    Examples
    --------
    >>> check_param_values({"step": 10, "ids": [1, 2]})
    """
    def walk(key: str, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            if not _INT64[0] <= value <= _INT64[1]:
                raise InputError(
                    f"parameter {key} = {value} is out of range: Neo4j integers are 64-bit "
                    f"({_INT64[0]}..{_INT64[1]})"
                )
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(key, item)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(key, item)

    for key, value in params.items():
        walk(key, value)
