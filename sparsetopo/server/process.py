"""The managed local Neo4j: jars from Maven Central, one home folder, loopback only, auth on.

Layout of the home folder (see :func:`sparsetopo.server.config.home_dir`)::

    lib/ plugins/     server, Browser, APOC and sparsetopo plugin jars (``sparsetopo server install``)
    conf/neo4j.conf   written from settings.json on every start
    data/ logs/ run/  the store, the server's logs, the pid file
    password          the generated password of user neo4j (mode 0600)

The server is org.neo4j.server.CommunityEntryPoint launched straight from the jars, as the 5.x
launcher does it (docs/decisions/0001-managed-neo4j.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sparsetopo.errors import ServerError
from sparsetopo.server.config import (
    NEO4J_USER,
    ConnectionInfo,
    ServerSettings,
    check_nice,
    home_dir,
    neo4j_overrides,
)
from sparsetopo.settings import environment

MIN_JAVA = 17
_ADD_OPENS = (
    "java.base/java.nio",
    "java.base/java.io",
    "java.base/sun.nio.ch",
    "java.base/java.lang",
    "java.base/java.util",
    "java.base/java.util.concurrent",
    "java.base/java.net",
)
_ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
_PRIVATE_DIR = 0o700
_PRIVATE_FILE = 0o600
#: umask of the server process and the admin tool: whatever they create is owner-only.
_PRIVATE_UMASK = 0o077
_ADMIN_TOOL = "org.neo4j.cli.AdminTool"


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    bolt_uri: str
    browser_url: str
    version: str | None
    home: str
    data_dir: str
    store_bytes: int
    installed: bool
    plugin_jar: str | None = None  # sparsetopo-neo4j-plugin-N.jar in plugins/, if built

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _pom_path() -> Path:
    return Path(str(resources.files("sparsetopo.server").joinpath("pom.xml")))


def _java() -> str:
    java_home = environment().java_home
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise ServerError(
            "Java was not found. Neo4j 5.26 needs Java 17 or 21: install it "
            "(Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`) or set JAVA_HOME."
        )
    return found


def java_version(java: str | None = None) -> int:
    """Major version of the java that will run the server; ServerError if below 17."""
    java = java or _java()
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise ServerError(f"could not read the version of {java}: {out.stderr.strip()[:200]}")
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8" style
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise ServerError(
            f"{java} is Java {major}; Neo4j 5.26 needs Java 17 or 21. Install a newer JDK "
            "(Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`) and set JAVA_HOME to it."
        )
    return major


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _tail(path: Path, lines: int) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 64 * 1024))
        text = handle.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


class MavenSteps:
    """Turn Maven's batch-mode output into short progress descriptions.

    >>> m = MavenSteps()
    >>> m.feed("[INFO] Building sparsetopo-neo4j-server 1                       [2/2]")
    'building sparsetopo-neo4j-server (module 2/2)'
    >>> m.feed("[INFO] --- maven-dependency-plugin:3.6.1:copy-dependencies (apoc) @ server ---")
    'building sparsetopo-neo4j-server (module 2/2): copy-dependencies (apoc)'
    >>> m.feed("Downloaded from central: https://repo/x.jar (12 kB at 3 MB/s)")
    'building sparsetopo-neo4j-server (module 2/2): copy-dependencies (apoc), 1 file(s) downloaded'
    >>> m.feed("[INFO] Copying neo4j-5.26.19.jar to /home/lib/neo4j-5.26.19.jar")
    'building sparsetopo-neo4j-server (module 2/2): copy-dependencies (apoc), 1 file(s) downloaded, 1 jar(s) copied'
    >>> m.feed("[INFO] Building jar: /home/plugins/x.jar") is None
    True
    """

    _BUILDING = re.compile(r"Building (\S+)(?: +\S+)? +\[(\d+)/(\d+)\]")
    _GOAL = re.compile(r"--- (?:[\w.-]+:)?(?:[\w.-]+:)?([\w-]+) \(([^)]*)\) @")

    def __init__(self) -> None:
        self.module = "Maven"
        self.goal = ""
        self.downloads = 0
        self.copied = 0

    def _text(self) -> str:
        text = self.module + (f": {self.goal}" if self.goal else "")
        text += f", {self.downloads} file(s) downloaded" if self.downloads else ""
        return text + (f", {self.copied} jar(s) copied" if self.copied else "")

    def feed(self, line: str) -> str | None:
        """The new description after ``line``, or None when it changes nothing."""
        if m := self._BUILDING.search(line):
            self.module = f"building {m.group(1)} (module {m.group(2)}/{m.group(3)})"
            self.goal = ""
            return self._text()
        if m := self._GOAL.search(line):
            self.goal = f"{m.group(1)} ({m.group(2)})"
            return self._text()
        if line.startswith("Downloaded from") or "] Downloaded from" in line:
            self.downloads += 1
            return self._text()
        if "] Copying " in line and ".jar to " in line:
            self.copied += 1
            return self._text()
        return None


class ManagedServer:
    """Install, start, stop and inspect the local Neo4j under one home folder."""

    def __init__(self, home: Path | None = None, settings: ServerSettings | None = None) -> None:
        self.home = (home or home_dir()).resolve()
        self.settings = settings or ServerSettings.load(self.home)

    # -- paths ------------------------------------------------------------------------------
    @property
    def lib_dir(self) -> Path:
        return self.home / "lib"

    @property
    def plugins_dir(self) -> Path:
        return self.home / "plugins"

    @property
    def conf_dir(self) -> Path:
        return self.home / "conf"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def password_file(self) -> Path:
        return self.home / "password"

    @property
    def pid_file(self) -> Path:
        return self.home / "run" / "neo4j.pid"

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.settings.bolt_port}"

    @property
    def browser_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.http_port}/browser/"

    # -- install ----------------------------------------------------------------------------
    def _install_marker(self) -> Path:
        return self.lib_dir / ".installed"

    def _pom_digest(self) -> str:
        # The plugin's sources count too: changing them rebuilds the plugin on the next install.
        digest = hashlib.sha256(_pom_path().read_bytes())
        plugin = _pom_path().parent / "plugin"
        for path in sorted(plugin.rglob("*")):
            if path.is_file() and (path.suffix in (".java", ".xml")):
                digest.update(str(path.relative_to(plugin)).encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()

    def is_installed(self) -> bool:
        marker = self._install_marker()
        return marker.exists() and marker.read_text().strip() == self._pom_digest()

    def install(self, force: bool = False, log: Callable[[str], None] | None = None,
                step: Callable[[str], None] | None = None) -> bool:
        """Fetch the server, Browser and APOC jars and build sparsetopo's procedure plugin from
        its sources (plugin/, needs a JDK), with Maven. Returns False if already there.

        ``step`` is called with a short description of each Maven step as it starts (and with
        the count of files downloaded so far), for a progress line."""
        if self.is_installed() and not force:
            return False
        java_version()
        java_home = environment().java_home
        if not shutil.which("javac") and not (
            java_home and (Path(java_home) / "bin" / "javac").exists()
        ):
            raise ServerError(
                "the Java compiler (javac) was not found; it builds sparsetopo's server plugin "
                "from source. Install a JDK (Debian/Ubuntu: `apt-get install "
                "openjdk-17-jdk-headless`) or set JAVA_HOME to one, and run `sparsetopo server "
                "install` again."
            )
        mvn = shutil.which("mvn")
        if not mvn:
            raise ServerError(
                "Maven (mvn) was not found; it fetches the Neo4j jars from Maven Central. "
                "Install it (Debian/Ubuntu: `apt-get install maven`) and run "
                "`sparsetopo server install` again."
            )
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        for folder in (self.lib_dir, self.plugins_dir):
            if folder.is_symlink():
                folder.unlink()
            elif folder.exists():
                shutil.rmtree(folder)
        install_log = self.logs_dir / "install.log"
        if log:
            log(f"fetching Neo4j jars with Maven into {self.lib_dir} (log: {install_log})")
        with install_log.open("w") as out:
            proc = subprocess.Popen(
                [mvn, "-B", "-f", str(_pom_path()), "package", f"-Dsparsetopo.home={self.home}"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
            )
            assert proc.stdout is not None
            steps = MavenSteps()
            for line in proc.stdout:
                out.write(line)
                said = steps.feed(line)
                if said and step:
                    step(said)
            proc.wait()
        if proc.returncode != 0:
            raise ServerError(
                "fetching the Neo4j jars from Maven Central failed. Check that Maven Central is "
                "reachable (proxy settings go in ~/.m2/settings.xml) and run "
                f"`sparsetopo server install` again. Last lines of {install_log}:\n"
                + _tail(install_log, 15)
            )
        shutil.rmtree(self.home / "build", ignore_errors=True)
        if not any(self.lib_dir.glob("neo4j-5.*.jar")):
            raise ServerError(f"Maven finished but {self.lib_dir} holds no neo4j jar; see {install_log}")
        if not any(self.plugins_dir.glob("sparsetopo-neo4j-plugin-*.jar")):
            raise ServerError(
                f"Maven finished but {self.plugins_dir} holds no sparsetopo plugin jar; see "
                f"{install_log}"
            )
        self._install_marker().write_text(self._pom_digest() + "\n")
        return True

    # -- configuration and password ---------------------------------------------------------
    def _config_lines(self) -> list[str]:
        """neo4j.conf: sparsetopo's settings, then those of SPARSETOPO_NEO4J_SETTINGS."""
        s = self.settings
        lines = [
            "# Written by sparsetopo on every start; change ports and memory in settings.json.",
            "server.default_listen_address=127.0.0.1",
            f"server.bolt.listen_address=127.0.0.1:{s.bolt_port}",
            f"server.http.listen_address=127.0.0.1:{s.http_port}",
            "server.https.enabled=false",
            # Advertise the real ports: the HTTP discovery document tells the Browser where Bolt
            # is, and the default (7687) could point it, with the password, at another server.
            "server.default_advertised_address=127.0.0.1",
            f"server.bolt.advertised_address=127.0.0.1:{s.bolt_port}",
            f"server.http.advertised_address=127.0.0.1:{s.http_port}",
            "dbms.security.auth_enabled=true",
            f"server.directories.data={self.data_dir}",
            f"server.directories.logs={self.logs_dir}",
            f"server.directories.plugins={self.plugins_dir}",
            f"server.directories.run={self.home / 'run'}",
            f"server.directories.import={self.home / 'import'}",
            f"server.memory.heap.initial_size={s.heap}",
            f"server.memory.heap.max_size={s.heap}",
            f"server.memory.pagecache.size={s.pagecache}",
            "dbms.security.procedures.unrestricted=apoc.*",
            "dbms.usage_report.enabled=false",
            "server.bolt.thread_pool_max_size=50",
            # Preallocated 250 MB transaction logs are wasted space for a local analysis store.
            "db.tx_log.preallocate=false",
            "db.tx_log.rotation.retention_policy=1 files",
            # Bolt's network threads otherwise wait 5 s for quiet, twice, after the databases
            # have stopped: `server stop` took 10 s, now under one.
            "internal.dbms.bolt.netty_server_shutdown_quiet_period=0",
        ]
        lines += self._browser_config_lines()
        overrides = neo4j_overrides()
        own = {line.partition("=")[0] for line in lines if not line.startswith("#")}
        taken = sorted(own & overrides.keys())
        if taken:
            raise ServerError(
                f"SPARSETOPO_NEO4J_SETTINGS sets {', '.join(taken)}, which sparsetopo sets itself; "
                "drop it (ports, memory and priority are `sparsetopo server start` options)"
            )
        if overrides:
            lines.append("# From SPARSETOPO_NEO4J_SETTINGS.")
            lines += [f"{key}={value}" for key, value in overrides.items()]
        return lines

    def _write_config(self, lines: list[str]) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        conf = self.conf_dir / "neo4j.conf"
        conf.write_text("\n".join(lines) + "\n")
        conf.chmod(_PRIVATE_FILE)

    def make_private(self) -> None:
        """Owner-only permissions on the home folder and everything the server writes (store,
        password hash in data/dbms/auth.ini, logs, config, spool): folders 0700, files 0600.
        The jar folders (lib/, plugins/) are left alone: they hold nothing secret and may be
        links to a shared installation."""
        if not self.home.exists():
            return
        self.home.chmod(_PRIVATE_DIR)
        for name in ("conf", "data", "logs", "run", "import", "spool", "password",
                     "settings.json"):
            top = self.home / name
            if top.is_symlink() or not top.exists():
                continue
            paths = [top] if top.is_file() else [top, *top.rglob("*")]
            for path in paths:
                if path.is_symlink():
                    continue
                with contextlib.suppress(OSError):
                    path.chmod(_PRIVATE_DIR if path.is_dir() else _PRIVATE_FILE)


    # -- Neo4j Browser: style and guide ----------------------------------------------------
    @property
    def browser_assets_url(self) -> str:
        """Where the managed server serves the sparsetopo Browser assets (guide, style)."""
        return f"http://127.0.0.1:{self.settings.http_port}/browser/sparsetopo/"

    def _browser_config_lines(self) -> list[str]:
        """Browser settings: on connect, apply the style and open the guide. The style goes
        inline as JSON (post_connect_cmd splits commands on ';', JSON has none); the guide is
        fetched from this server, so its host must be on the remote-content allowlist (whose
        5.26 name still says 'whitelist')."""
        if not self.settings.browser_setup:
            return []
        style = _browser_assets().get("style.json", b"").decode("utf-8").strip()
        if not style or not self._browser_jar():
            return []
        return [
            f"browser.post_connect_cmd=style {style}; play {self.browser_assets_url}guide.html",
            "browser.remote_content_hostname_whitelist=127.0.0.1,localhost,guides.neo4j.com",
        ]

    def _browser_jar(self) -> Path | None:
        jars = sorted(self.lib_dir.glob("neo4j-browser-*.jar")) if self.lib_dir.exists() else []
        return jars[-1] if jars else None

    def browser_overlay(self) -> Path | None:
        """A jar holding the Browser's files plus ``browser/sparsetopo/*`` (the guide and the
        style), put first on the class path so that the server serves both from /browser/.
        Jetty serves /browser/ from the first class-path entry holding that folder, so the
        overlay carries a copy of the whole Browser. Rebuilt only when the Browser jar or the
        assets change; None when there is nothing to overlay."""
        jar = self._browser_jar()
        extra = _browser_assets()
        if jar is None or not extra or not self.settings.browser_setup:
            return None
        digest = hashlib.sha256(jar.name.encode() + str(jar.stat().st_size).encode())
        for name in sorted(extra):
            digest.update(name.encode() + b"\0" + extra[name])
        folder = self.home / "browser"
        target = folder / f"sparsetopo-browser-{digest.hexdigest()[:16]}.jar"
        if target.exists():
            return target
        folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        with zipfile.ZipFile(jar) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as out:
            for info in src.infolist():
                if info.filename.startswith("browser/sparsetopo/"):
                    continue
                out.writestr(info, src.read(info), compress_type=zipfile.ZIP_STORED)
            out.writestr("browser/sparsetopo/", b"")
            for name, data in sorted(extra.items()):
                out.writestr(f"browser/sparsetopo/{name}", data)
        os.replace(tmp, target)
        for old in folder.glob("sparsetopo-browser-*.jar"):
            if old != target:
                old.unlink(missing_ok=True)
        return target

    def _admin_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["NEO4J_HOME"] = str(self.home)
        env["NEO4J_CONF"] = str(self.conf_dir)
        return env

    def _ensure_password(self) -> None:
        """Generate the password and set it as the initial one, before the first start."""
        auth_file = self.data_dir / "dbms" / "auth.ini"
        store_exists = (self.data_dir / "databases").exists()
        if self.password_file.exists():
            if not store_exists and not auth_file.exists():
                self._set_initial_password(self.password_file.read_text().strip())
            return
        if store_exists:
            raise ServerError(
                f"the store in {self.data_dir} exists but its password file {self.password_file} "
                "is gone. Restore the file, or delete the data folder to start afresh "
                "(this deletes every stored run)."
            )
        password = secrets.token_urlsafe(24)
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        self._set_initial_password(password)

    def _set_initial_password(self, password: str) -> None:
        # picocli reads arguments from an @file: the password never appears in `ps`.
        run_dir = self.home / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        argfile = run_dir / "initial-password.args"
        fd = os.open(argfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            # "--" ends the options: a password starting with "-" (1 in 64 from token_urlsafe) is
            # otherwise read as an unknown option and the command fails.
            handle.write("--\n" + password + "\n")
        try:
            proc = subprocess.run(
                [_java(), "-cp", f"{self.lib_dir}/*", _ADMIN_TOOL, "dbms",
                 "set-initial-password", f"@{argfile}"],
                capture_output=True, text=True, env=self._admin_env(), check=False,
                umask=_PRIVATE_UMASK,
            )
        finally:
            argfile.unlink(missing_ok=True)
        if proc.returncode != 0:
            # The cause (e.g. an invalid memory setting) is in the exception lines, not the frames.
            lines = [ln for ln in proc.stderr.splitlines()
                     if ln.strip() and not re.match(r"\s+(at |\.\.\. \d+ more)", ln)]
            raise ServerError(
                "setting the initial password failed: " + "\n".join(lines)[-1500:]
            )

    def password(self) -> str:
        if not self.password_file.exists():
            raise ServerError(
                f"no password yet in {self.password_file}: run `sparsetopo server start` once."
            )
        return self.password_file.read_text().strip()

    def connection(self) -> ConnectionInfo:
        return ConnectionInfo(self.bolt_uri, NEO4J_USER, self.password(), None, managed=True)

    # -- process ----------------------------------------------------------------------------
    def pid(self) -> int | None:
        """Pid of the running server of this home, or None (stale pid files are removed)."""
        if not self.pid_file.exists():
            return None
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
        except (ValueError, OSError):
            cmdline = ""
            pid = -1
        if _ENTRY_POINT in cmdline and str(self.home) in cmdline:
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def is_running(self) -> bool:
        return self.pid() is not None

    def start(self, timeout: float = 180.0, log: Callable[[str], None] | None = None) -> bool:
        """Start in the background and wait until Bolt answers. False if it already ran."""
        if self.is_running():
            return False
        self._config_lines()  # SPARSETOPO_NEO4J_SETTINGS refused before anything is written
        self.install(log=log)
        java = _java()
        java_version(java)
        for name, port in (("Bolt", self.settings.bolt_port), ("HTTP", self.settings.http_port)):
            if not port_is_free(port):
                env = "SPARSETOPO_BOLT_PORT" if name == "Bolt" else "SPARSETOPO_HTTP_PORT"
                flag = "--bolt-port" if name == "Bolt" else "--http-port"
                raise ServerError(
                    f"port {port} on 127.0.0.1 ({name}) is already in use. Stop whatever listens "
                    f"there (`ss -ltnp | grep {port}`), or pick another port: "
                    f"`sparsetopo server start {flag} N` or {env}=N."
                )
        self._write_config(self._config_lines())  # the Browser lines need the installed jars
        self._ensure_password()
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.make_private()
        console = self.logs_dir / "console.log"
        overlay_jar = self.browser_overlay()
        overlay = f"{overlay_jar}:" if overlay_jar is not None else ""
        command = [java, f"-Xms{self.settings.heap}", f"-Xmx{self.settings.heap}"]
        nice = check_nice(self.settings.nice)
        if nice:
            # nice(1) execs java in the same process, so the pid stays the server's, and every
            # thread the JVM starts inherits the priority.
            nice_tool = shutil.which("nice")
            if not nice_tool:
                raise ServerError(
                    f"the server should run at nice {nice} but the `nice` tool (coreutils) was "
                    "not found; install coreutils or start with --nice 0"
                )
            command = [nice_tool, "-n", str(nice), *command]
        command += [f"--add-opens={m}=ALL-UNNAMED" for m in _ADD_OPENS]
        command += [
            "-XX:+UseG1GC", "-XX:-OmitStackTraceInFastThrow", "-XX:+ExitOnOutOfMemoryError",
            "-Dfile.encoding=UTF-8",
            "-cp", overlay + f"{self.plugins_dir}/*:{self.conf_dir}/*:{self.lib_dir}/*",
            _ENTRY_POINT, f"--home-dir={self.home}", f"--config-dir={self.conf_dir}",
        ]
        if log:
            log(f"starting Neo4j on {self.bolt_uri} (home {self.home})")
        with console.open("ab") as out:
            console.chmod(_PRIVATE_FILE)
            proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.home, env=self._admin_env(), start_new_session=True,
                umask=_PRIVATE_UMASK,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        self.pid_file.chmod(_PRIVATE_FILE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise ServerError(
                    f"Neo4j exited at start (code {proc.returncode}). Last lines of "
                    f"{self.logs_dir / 'neo4j.log'}:\n{_tail(self.logs_dir / 'neo4j.log', 20)}\n"
                    f"Last lines of {console}:\n{_tail(console, 10)}"
                )
            if self._bolt_answers():
                return True
            time.sleep(0.5)
        self.stop()
        raise ServerError(
            f"Neo4j did not answer on {self.bolt_uri} within {timeout:.0f} s. Last log lines:\n"
            + _tail(self.logs_dir / "neo4j.log", 20)
        )

    def _bolt_answers(self) -> bool:
        from neo4j import GraphDatabase
        from neo4j.exceptions import Neo4jError, ServiceUnavailable

        try:
            with GraphDatabase.driver(
                self.bolt_uri, auth=(NEO4J_USER, self.password()), connection_timeout=2
            ) as driver:
                driver.verify_connectivity()
                driver.execute_query("RETURN 1")
            return True
        except (ServiceUnavailable, Neo4jError, OSError):
            return False

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop cleanly (SIGTERM, then SIGKILL after `timeout`). False if it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            if _is_zombie(pid):
                break
            time.sleep(0.2)
        else:
            if Path(f"/proc/{pid}").exists():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        self.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> ServerStatus:
        pid = self.pid()
        version = None
        jars = sorted(self.lib_dir.glob("neo4j-5.*.jar")) if self.lib_dir.exists() else []
        if jars:
            version = jars[0].stem.removeprefix("neo4j-")
        size = 0
        if self.data_dir.exists():
            size = sum(f.stat().st_size for f in self.data_dir.rglob("*") if f.is_file())
        return ServerStatus(
            running=pid is not None, pid=pid, bolt_uri=self.bolt_uri, browser_url=self.browser_url,
            version=version, home=str(self.home), data_dir=str(self.data_dir), store_bytes=size,
            installed=self.is_installed(),
            plugin_jar=next((p.name for p in sorted(self.plugins_dir.glob(
                "sparsetopo-neo4j-plugin-*.jar"))), None) if self.plugins_dir.exists() else None,
        )

    def logs(self, lines: int = 50) -> str:
        return _tail(self.logs_dir / "neo4j.log", lines)


def _browser_assets() -> dict[str, bytes]:
    """The files under sparsetopo/server/browser (written from the query library by
    ``python -m sparsetopo.queries.browser``)."""
    folder = resources.files("sparsetopo.server").joinpath("browser")
    if not folder.is_dir():
        return {}
    return {entry.name: entry.read_bytes() for entry in folder.iterdir()
            if entry.is_file() and not entry.name.startswith((".", "_"))}


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"
