"""Where the managed server lives and how to reach a database.

Everything of the managed server sits under one home folder: SPARSETOPO_HOME when set, otherwise
the per-user data directory ($XDG_DATA_HOME/sparsetopo, i.e. ~/.local/share/sparsetopo).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from sparsetopo.errors import ServerError
from sparsetopo.settings import environment

DEFAULT_BOLT_PORT = 7687
DEFAULT_HTTP_PORT = 7474
DEFAULT_HEAP = "1g"
DEFAULT_PAGECACHE = "1g"
NEO4J_USER = "neo4j"
#: a neo4j.conf key: dotted words (``dbms.cypher.min_replan_interval``)
_NEO4J_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)+")


def home_dir() -> Path:
    """The managed server's home folder (created on demand by the server commands)."""
    env = environment()
    explicit = env.sparsetopo_home
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = env.xdg_data_home or str(Path.home() / ".local" / "share")
    return Path(base).expanduser().resolve() / "sparsetopo"


def neo4j_overrides() -> dict[str, str]:
    """Extra neo4j.conf settings of the managed server, from SPARSETOPO_NEO4J_SETTINGS.

    The variable holds ``key=value`` pairs separated by ``;``, e.g.
    ``dbms.cypher.min_replan_interval=1h;dbms.query_cache_size=2000``. They are written after
    sparsetopo's own settings on every start; the test scripts use it to tune their throw-away
    servers (docs/decisions/0026-test-servers-plan-once.md).

    Raises
    ------
    ServerError
        An entry that is not ``key=value`` with a dotted key, or a key given twice.
    """
    raw = environment().neo4j_settings
    overrides: dict[str, str] = {}
    for entry in (raw or "").split(";"):
        entry = entry.strip()
        if not entry:
            continue
        key, sep, value = (part.strip() for part in entry.partition("="))
        if not sep or not value or not _NEO4J_KEY.fullmatch(key):
            raise ServerError(
                f"SPARSETOPO_NEO4J_SETTINGS: {entry!r} is not a Neo4j setting; write "
                "key=value pairs separated by ';', e.g. dbms.cypher.min_replan_interval=1h"
            )
        if key in overrides:
            raise ServerError(f"SPARSETOPO_NEO4J_SETTINGS sets {key} twice; keep one of them")
        overrides[key] = value
    return overrides


def check_nice(value: object) -> int:
    """The server's nice value, checked: an integer from 0 (normal) to 19 (lowest priority).

    Raises
    ------
    ServerError
        Anything else (a negative value would need root and raise the server above training).
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 19:
        raise ServerError(
            f"server nice value {value!r} is invalid; use an integer from 0 (normal priority) "
            "to 19 (lowest): `sparsetopo server start --nice N` or SPARSETOPO_NICE=N"
        )
    return value


@dataclass
class ServerSettings:
    """Ports and memory of the managed server; kept in HOME/settings.json once chosen."""

    bolt_port: int = DEFAULT_BOLT_PORT
    http_port: int = DEFAULT_HTTP_PORT
    heap: str = DEFAULT_HEAP
    pagecache: str = DEFAULT_PAGECACHE
    #: Serve the sparsetopo style and guide from the Browser's own address and, when the
    #: Browser connects, apply the style and open the guide (``browser.post_connect_cmd``).
    browser_setup: bool = True
    #: CPU priority of the server process (``nice`` value, 0 = normal, 19 = lowest): a positive
    #: value lets a training process on the same cores go first while the server writes in the
    #: idle time (docs/decisions/0007-server-side-writer.md).
    nice: int = 0

    @classmethod
    def load(cls, home: Path) -> ServerSettings:
        """Stored settings, overridden by SPARSETOPO_BOLT_PORT / _HTTP_PORT / _HEAP / _PAGECACHE /
        _NICE."""
        settings = cls()
        path = home / "settings.json"
        if path.exists():
            try:
                stored = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise ServerError(
                    f"cannot read {path}: {exc}. Fix or delete the file; it only holds ports "
                    "and memory sizes."
                ) from exc
            for key, value in stored.items():
                if hasattr(settings, key):
                    setattr(settings, key, value)
        env = environment()
        for key, name, raw in (("bolt_port", "SPARSETOPO_BOLT_PORT", env.bolt_port),
                               ("http_port", "SPARSETOPO_HTTP_PORT", env.http_port)):
            if raw:
                try:
                    setattr(settings, key, int(raw))
                except ValueError as exc:
                    raise ServerError(f"{name}={raw!r} is not a port number") from exc
        for key, raw in (("heap", env.heap), ("pagecache", env.pagecache)):
            if raw:
                setattr(settings, key, raw)
        if env.nice:
            try:
                settings.nice = int(env.nice)
            except ValueError as exc:
                raise ServerError(
                    f"SPARSETOPO_NICE={env.nice!r} is not an integer; use "
                    "0 (normal priority) to 19 (lowest)"
                ) from exc
        check_nice(settings.nice)
        for port in (settings.bolt_port, settings.http_port):
            if not 1 <= int(port) <= 65535:
                raise ServerError(f"port {port} is out of range 1..65535")
        return settings

    def save(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        (home / "settings.json").write_text(json.dumps(asdict(self), indent=2) + "\n")


@dataclass(frozen=True)
class ConnectionInfo:
    """How to reach a database: an external one from NEO4J_* variables, or the managed one."""

    uri: str
    user: str
    password: str
    database: str | None
    managed: bool

    def __repr__(self) -> str:  # never show the password
        return (
            f"ConnectionInfo(uri={self.uri!r}, user={self.user!r}, database={self.database!r}, "
            f"managed={self.managed})"
        )


def external_connection() -> ConnectionInfo | None:
    """The connection named by NEO4J_URI (+ NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE), if set."""
    env = environment()
    uri = env.neo4j_uri
    if not uri:
        return None
    password = env.neo4j_password
    if password is None:
        raise ServerError(
            f"NEO4J_URI is set ({uri}) but NEO4J_PASSWORD is not. Export NEO4J_PASSWORD (and "
            "NEO4J_USER if it is not 'neo4j'), or unset NEO4J_URI to use the managed local server."
        )
    return ConnectionInfo(
        uri=uri,
        user=NEO4J_USER if env.neo4j_user is None else env.neo4j_user,
        password=password,
        database=env.neo4j_database or None,
        managed=False,
    )
