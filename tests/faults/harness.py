"""The fault-injection campaign (issue 10): faults during ingest, Recorder, analyze and run
delete, each followed by recovery and a check of what is visible.

Used by tests/faults/test_campaign.py (short version, in the normal suite) and by
scripts/faults.py (long version, writes the table in docs/reliability.md). Every scenario takes
a seed, so a run can be repeated exactly; faults land at seeded random moments.

After each fault: the operation is repeated until it completes (bounded), then the run is
checked: every visible snapshot equals its source exactly, no incomplete snapshot is left, the
live SYNAPSEs match the last snapshot's edge count (no duplicates), and no acknowledged
snapshot is missing. The longest time any call blocked is recorded.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sparsetopo.graphstore.connection import open_driver
from sparsetopo.graphstore.reader import list_snapshots, read_snapshot
from sparsetopo.graphstore.runs import delete_run, find_run
from sparsetopo.ingest.run_import import same_snapshot
from sparsetopo.server.config import ConnectionInfo, ServerSettings
from sparsetopo.server.process import ManagedServer
from sparsetopo.topology import GraphSnapshot, LayerEdges
from tests.faults.proxy import FaultProxy

ROOT = Path(__file__).resolve().parents[2]
HEADER = "Id,Source,Target,Weight\n"
#: How long a proxy fault lasts before it heals (a hang: before the cut). The short campaign
#: uses 1 s: the operations fail at the fault either way, and the repeat is after the heal.
HEAL_SECONDS = 2.0
#: How long a repeat may wait for a killed writer's lease to expire (the default TTL is 60 s).
LEASE_WAIT = 90.0


@dataclass
class FaultRecord:
    """One injected fault and what the check found."""

    scenario: str
    fault: str
    seed: int
    runs_checked: int = 0
    snapshots_checked: int = 0
    snapshots_lost: int = 0
    refused_reported: int = 0  # snapshots refused with an error (disk full), not lost
    blocked_max_s: float = 0.0
    repeats: int = 0
    mid_operation: bool = True  # the fault landed while the operation was still running
    ok: bool = False
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- the server under test ---------------------------------------------------------------------

class FaultServer:
    """A second managed server (own home and ports) that may be killed and restarted."""

    def __init__(self, home: Path, bolt: int, http: int, jars_from: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        for folder in ("lib", "plugins"):
            link = home / folder
            if not link.exists():
                link.symlink_to((jars_from / folder).resolve())
        settings = ServerSettings(bolt_port=bolt, http_port=http, heap="512m", pagecache="256m")
        self.server = ManagedServer(home=home, settings=settings)
        self.restarts = 0

    @classmethod
    def wrap(cls, server: ManagedServer) -> FaultServer:
        """Use an already running managed server (for proxy and client faults only)."""
        obj = cls.__new__(cls)
        obj.server, obj.restarts = server, 0
        return obj

    def start(self) -> None:
        self.server.start(timeout=240)

    def kill9(self) -> None:
        pid = self.server.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
                time.sleep(0.1)
        self.server.pid_file.unlink(missing_ok=True)

    def stop(self) -> None:
        self.server.stop()

    def restart(self) -> None:
        self.restarts += 1
        self.start()

    def connection(self, port: int | None = None) -> ConnectionInfo:
        uri = f"bolt://127.0.0.1:{port or self.server.settings.bolt_port}"
        return ConnectionInfo(uri, "neo4j", self.server.password(), None, managed=False)

    def env(self, port: int | None = None) -> dict[str, str]:
        info = self.connection(port)
        env = dict(os.environ)
        env.update(NEO4J_URI=info.uri, NEO4J_USER=info.user, NEO4J_PASSWORD=info.password,
                   PYTHONPATH=str(ROOT))
        env.pop("NEO4J_DATABASE", None)
        return env


# -- inputs with known contents --------------------------------------------------------------

def make_csv_run(folder: Path, seed: int, steps: int, units: int, edges: int) -> dict[int, GraphSnapshot]:
    """CSV edge lists (one per step) with float32-exact weights; returns what each step must
    read back as."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    keys = rng.choice(units * units, size=edges, replace=False)
    for k in range(steps):
        step = 10 * k
        turnover = rng.choice(len(keys), size=edges // 10, replace=False)
        keys[turnover] = rng.choice(units * units, size=len(turnover), replace=False)
        keys = np.unique(keys)
        w = rng.standard_normal(len(keys)).astype(np.float32)
        w[w == 0] = np.float32(0.5)
        src, dst = keys // units, keys % units
        lines = [f"{i},{s},{d},{v:.9g}" for i, (s, d, v) in enumerate(zip(src, dst, w, strict=True))]
        (folder / f"edge_list_weighted_{step}.csv").write_text(HEADER + "\n".join(lines) + "\n")
        expected[step] = GraphSnapshot({"W_rec": LayerEdges(src, dst, w)}, step=step)
    return expected


def check_run(driver, run: str, expected: dict[int, GraphSnapshot], must_have: set[int],
              record: FaultRecord) -> None:
    """What is visible of `run` against its source (see the module docstring)."""
    record.runs_checked += 1
    snaps = list_snapshots(driver, run)
    visible = [int(s["step"]) for s in snaps]
    for step in visible:
        record.snapshots_checked += 1
        if step not in expected:
            record.problems.append(f"{run}: step {step} is not in the source")
            continue
        got = read_snapshot(driver, run, step=step)
        if not same_snapshot(got, expected[step]):
            record.problems.append(f"{run}: step {step} differs from its source")
    lost = sorted(must_have - set(visible))
    record.snapshots_lost += len(lost)
    if lost:
        record.problems.append(f"{run}: steps {lost} lost")
    records, _, _ = driver.execute_query(
        "MATCH (r:Run {name: $run}) "
        "OPTIONAL MATCH (s:Snapshot {run_id: r.run_id}) WHERE s.complete = false "
        "WITH r, count(s) AS incomplete "
        "OPTIONAL MATCH ()-[x:SYNAPSE]->() WHERE x.run_id = r.run_id AND x.died IS NULL "
        "RETURN incomplete, count(x) AS alive", run=run)
    if records:
        if records[0]["incomplete"]:
            record.problems.append(f"{run}: {records[0]['incomplete']} incomplete snapshot(s) left")
        last_edges = snaps[-1]["n_edges"] if snaps else 0
        if records[0]["alive"] != last_edges:
            record.problems.append(
                f"{run}: {records[0]['alive']} live SYNAPSEs but the last snapshot has "
                f"{last_edges} edges")


# -- ingest -------------------------------------------------------------------------------------

def _sparsetopo() -> list[str]:
    return [sys.executable, "-m", "sparsetopo.cli.main"]


def _run_cli(argv: list[str], env: dict[str, str], timeout: float) -> tuple[int, str, float]:
    start = time.monotonic()
    proc = subprocess.run(_sparsetopo() + argv, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return proc.returncode, proc.stderr, time.monotonic() - start


#: Environment variables that decide where and how a CLI call connects (set or cleared for an
#: in-process call exactly as they would be in a subprocess's environment).
_CLI_ENV = ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE",
            "SPARSETOPO_FAULT_RESULTS", "SPARSETOPO_WRITER", "SPARSETOPO_MAX_RETRY_SECONDS")


def _run_cli_here(argv: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    """The same command as :func:`_run_cli`, run in this process through typer's CliRunner (no
    ~2 s of imports per call). Only for calls that are not killed: a repeat after a fault, a
    setup. What a subprocess would print as a traceback (an exception escaping the command)
    is returned in the stderr text as ``Traceback ...`` with exit code 1, so the same
    one-line / no-traceback checks apply.

    CliRunner swaps sys.stdout/stderr and the environment of the whole process, which only the
    main thread may do (pytest's output capture swaps them too): a scenario running in another
    thread gets a subprocess instead."""
    if threading.current_thread() is not threading.main_thread():
        return _run_cli(argv, env, timeout=600)
    import logging

    from typer.testing import CliRunner

    from sparsetopo.cli.main import app

    logger = logging.getLogger("sparsetopo")  # the CLI's callback reconfigures it: restore
    start = time.monotonic()
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        result = CliRunner().invoke(app, argv, env={k: env.get(k) for k in _CLI_ENV},
                                    catch_exceptions=True)
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    stderr = result.stderr
    code = result.exit_code
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        import traceback

        stderr += "Traceback (in-process call):\n" + "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__))
        code = 1 if code in (0, None) else code
    return int(code), stderr, time.monotonic() - start


def _wait_until(done: Callable[[], bool], bound: float, interval: float = 0.05) -> bool:
    """Poll `done` until it is true (True) or `bound` seconds passed (False)."""
    deadline = time.monotonic() + bound
    while True:
        if done():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def _complete_snapshots(driver, run: str) -> int:
    records, _, _ = driver.execute_query(
        "MATCH (r:Run {name: $run}) OPTIONAL MATCH (s:Snapshot {run_id: r.run_id}) "
        "WHERE s.complete = true RETURN r.run_id AS id, count(s) AS n", run=run)
    return int(records[0]["n"]) if records else -1  # no row: no Run node yet


def _wait_into_writing(driver, run: str, proc: subprocess.Popen, rng: random.Random,
                       steps: int, bound: float = 120.0) -> None:
    """Instead of a fixed sleep after the launch (which, on a slow machine, may still be in the
    imports, and on a fast one already past the end): wait until `proc` has written a seeded
    number of complete snapshots (0 .. steps-2, so at least two are still to come), then a
    seeded jitter, so the fault lands at a random moment in the writing."""
    after = rng.randrange(0, steps - 1)
    _wait_until(lambda: proc.poll() is not None or _complete_snapshots(driver, run) >= after,
                bound)
    time.sleep(rng.uniform(0.0, 0.3))


_WARM_CODE = textwrap.dedent("""
    import sys
    from sparsetopo.cli.main import app
    if sys.stdin.readline() != "go\\n":  # the harness gave up on this command: do nothing
        sys.exit(3)
    sys.argv[0] = "sparsetopo"
    app()
""")


class _WarmCli:
    """A `sparsetopo` command in a process of its own (as ``python -m sparsetopo.cli.main``:
    the same ``app()``, argv and environment), launched ahead of time so that its ~2 s of
    imports overlap the previous step of a scenario; :meth:`run` lets it go. Used for the
    commands that are killed, which must be real processes."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", _WARM_CODE, *argv], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def run(self, timeout: float) -> tuple[int, str, float]:
        start = time.monotonic()
        try:
            _, stderr = self.proc.communicate("go\n", timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, stderr = self.proc.communicate()
        return self.proc.returncode, stderr, time.monotonic() - start

    def discard(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


def _one_line_or_ok(code: int, stderr: str, record: FaultRecord, what: str) -> None:
    if "Traceback" in stderr:
        record.problems.append(f"{what}: traceback: {stderr[-300:]}")
    if code not in (0, 1):
        record.problems.append(f"{what}: exit code {code}")


def inject(fault: str, server: FaultServer, proxy: FaultProxy) -> None:
    """Start a fault (the caller recovers with :func:`recover`)."""
    if fault == "server-kill9":
        server.kill9()
    elif fault == "server-stop":
        server.stop()
    elif fault == "proxy-drop":
        proxy.set_mode("drop")
    elif fault == "proxy-hang":
        proxy.set_mode("hang")
    elif fault == "proxy-slow":
        proxy.set_mode("slow")
    elif fault == "proxy-hang-then-cut":
        proxy.set_mode("hang")
    else:
        raise ValueError(fault)


def recover(fault: str, server: FaultServer, proxy: FaultProxy) -> None:
    if fault in ("server-kill9", "server-stop"):
        settle()  # a stop in the background must have finished before the restart
        server.restart()
    elif fault == "proxy-hang-then-cut":
        time.sleep(HEAL_SECONDS)
        proxy.set_mode("drop")
        time.sleep(0.5)
        proxy.set_mode("pass")
    elif fault.startswith("proxy-"):
        time.sleep(HEAL_SECONDS)
        proxy.set_mode("pass")


def fire(fault: str, server: FaultServer, proxy: FaultProxy, delay: float) -> None:
    """In the background: inject `fault` after `delay` s; proxy faults heal
    :data:`HEAL_SECONDS` later (server faults are recovered by the caller once the operation
    returned)."""
    def run() -> None:
        time.sleep(delay)
        inject(fault, server, proxy)
        if fault.startswith("proxy-"):
            recover(fault, server, proxy)

    thread = threading.Thread(target=run, daemon=True)
    _fired().append(thread)
    thread.start()


_FIRED = threading.local()


def _fired() -> list[Any]:
    """The faults fired from this thread (scenarios may run in several threads at once)."""
    if not hasattr(_FIRED, "threads"):
        _FIRED.threads = []
    return _FIRED.threads


def settle() -> None:
    """Wait until every fault fired in the background has landed and a proxy fault has healed
    (instead of sleeping longer than the heal takes)."""
    fired = _fired()
    while fired:
        fired.pop().join(180)


def ingest_scenario(server: FaultServer, proxy: FaultProxy, work: Path, fault: str, seed: int,
                    steps: int = 5, units: int = 150, edges: int = 3000) -> FaultRecord:
    """`sparsetopo ingest` of `steps` CSV files; `fault` at a random moment; run again until it
    completes; check the run."""
    record = FaultRecord("ingest", fault, seed)
    rng = random.Random(seed)
    folder = work / f"ingest-{seed}"
    expected = make_csv_run(folder, seed, steps, units, edges)
    run = f"fault-ingest-{seed}"
    env = server.env(proxy.port)
    argv = ["ingest", str(folder), "--run", run]
    driver, _ = open_driver(server.connection())
    delete_run(driver, run)  # a leftover of an interrupted campaign would hide the start
    proc = subprocess.Popen(_sparsetopo() + argv, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:  # import, validation, then somewhere in the writing
        _wait_into_writing(driver, run, proc, rng, steps)
    finally:
        driver.close()
    fault_at = time.monotonic()
    record.mid_operation = proc.poll() is None
    if fault == "client-kill9":
        proc.kill()
    else:
        fire(fault, server, proxy, 0.0)
    try:
        _, stderr = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
        record.problems.append("ingest did not return within 300 s of the fault")
    record.blocked_max_s = time.monotonic() - fault_at
    if fault != "client-kill9":
        _one_line_or_ok(proc.returncode, stderr, record, "ingest during fault")
    if fault.startswith("server-"):
        recover(fault, server, proxy)
    else:
        settle()  # a proxy fault has healed
    code = proc.returncode
    give_up = time.monotonic() + LEASE_WAIT
    while code != 0 and (record.repeats < 2 or time.monotonic() < give_up):
        record.repeats += 1
        code, stderr, _took = _run_cli_here(argv, env)
        _one_line_or_ok(code, stderr, record, "repeated ingest")
        if code != 0:
            time.sleep(1)  # e.g. a killed writer's lease has to expire first
    if code != 0:
        record.problems.append(f"ingest never completed: {stderr.strip()[-300:]}")
    driver, _ = open_driver(server.connection())
    try:
        check_run(driver, run, expected, set(expected) if code == 0 else set(), record)
        delete_run(driver, run)
    finally:
        driver.close()
    shutil.rmtree(folder, ignore_errors=True)
    record.ok = not record.problems
    return record


# -- Recorder -----------------------------------------------------------------------------------

def _mlp(seed: int) -> Any:
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(40, 30), torch.nn.ReLU(), torch.nn.Linear(30, 6))


def _evolve(model: Any, step: int) -> GraphSnapshot:
    """Prune/regrow the model deterministically; the snapshot the Recorder must store."""
    import torch

    gen = torch.Generator().manual_seed(7919 + step)
    layers = {}
    with torch.no_grad():
        for name, layer in (("0.weight", model[0]), ("2.weight", model[2])):
            keep = (torch.rand(layer.weight.shape, generator=gen) > 0.2).float()
            regrow = torch.randn(layer.weight.shape, generator=gen) * (1 - keep) * 0.1
            layer.weight.mul_(keep).add_(regrow)
            layers[name] = LayerEdges.from_dense(layer.weight.detach().numpy().T.copy())
    return GraphSnapshot(layers, step=step)


def recorder_scenario(server: FaultServer, proxy: FaultProxy, work: Path, fault: str, seed: int,
                      steps: int = 10, spool_fs: Path | None = None) -> FaultRecord:
    """A Recorder snapshotting a small model; `fault` after a random step; recovery while it
    keeps snapshotting; everything must arrive (or be refused with an error: disk full)."""
    from sparsetopo.ingest.recorder import Recorder, SpoolFullError

    record = FaultRecord("recorder", fault, seed)
    rng = random.Random(seed)
    run = f"fault-recorder-{seed}"
    spool = (spool_fs or work) / f"spool-{seed}"
    model = _mlp(seed)
    expected: dict[int, GraphSnapshot] = {}
    refused: set[int] = set()
    at = rng.randrange(1, steps - 3)
    rec = Recorder(model, run=run, connection=server.connection(proxy.port), spool_dir=spool,
                   retry_interval=0.3, close_timeout=60, replace=True)
    blocked = []
    for step in range(steps):
        if step == at:
            inject("proxy-drop" if fault == "spool-full" else fault, server, proxy)
        snap = _evolve(model, step)
        try:
            rec.snapshot(step)
            expected[step] = snap
        except SpoolFullError:
            refused.add(step)
            expected[step] = snap
        if step == at + 2:
            if fault == "spool-full":
                proxy.set_mode("pass")
            else:
                recover(fault, server, proxy)
        time.sleep(0.05)
    start = time.monotonic()
    try:
        rec.flush(timeout=180)
    except Exception as exc:  # noqa: BLE001 - recorded, not raised
        record.problems.append(f"flush: {type(exc).__name__}: {exc}")
    blocked.append(time.monotonic() - start)
    try:
        rec.close()
    except Exception as exc:  # noqa: BLE001
        record.problems.append(f"close: {type(exc).__name__}: {exc}")
    record.blocked_max_s = max([*rec.blocking_seconds, 0.0])
    record.refused_reported = len(refused)
    driver, _ = open_driver(server.connection())
    try:
        stored = {e: s for e, s in expected.items()}
        check_run(driver, run, stored, set(expected) - refused, record)
        visible = {int(s["step"]) for s in list_snapshots(driver, run)}
        if visible & refused:
            record.problems.append(f"refused steps {sorted(visible & refused)} were stored")
        delete_run(driver, run)
    finally:
        driver.close()
    if spool.exists() and list(spool.rglob("*.npz")):
        record.problems.append(f"spool not empty: {sorted(p.name for p in spool.rglob('*.npz'))}")
    shutil.rmtree(spool, ignore_errors=True)
    record.ok = not record.problems
    return record


_CHILD = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {root!r})
    from tests.faults.harness import _mlp, _evolve
    from sparsetopo.ingest.recorder import Recorder
    from sparsetopo.server.config import ConnectionInfo
    info = ConnectionInfo({uri!r}, "neo4j", {password!r}, None, managed=False)
    model = _mlp({seed})
    rec = Recorder(model, run={run!r}, connection=info, spool_dir={spool!r}, retry_interval=0.3,
                   lease_ttl=5)
    for step in range({steps}):
        _evolve(model, step)
        rec.snapshot(step)
        rec.flush(timeout=30)
        print(json.dumps({{"durable": step, "blocked": max(rec.blocking_seconds)}}), flush=True)
        time.sleep(0.05)
    rec.close()
    print(json.dumps({{"closed": True}}), flush=True)
""")


def recorder_client_kill_scenario(server: FaultServer, proxy: FaultProxy, work: Path,
                                  seed: int, steps: int = 12) -> FaultRecord:
    """A Recorder process killed with -9 (during an outage half of the time, so a spool is
    left); a new Recorder of the run replays what was spooled."""
    from sparsetopo.ingest.recorder import Recorder

    record = FaultRecord("recorder", "client-kill9", seed)
    rng = random.Random(seed)
    run = f"fault-rec-kill-{seed}"
    spool = work / f"spool-kill-{seed}"
    info = server.connection(proxy.port)
    code = _CHILD.format(root=str(ROOT), uri=info.uri, password=info.password, seed=seed,
                         run=run, spool=str(spool), steps=steps)
    driver, _ = open_driver(server.connection())
    delete_run(driver, run)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=server.env())
    durable = -1
    outage = rng.random() < 0.5
    kill_after = rng.randrange(2, steps - 2)
    while True:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            break
        msg = json.loads(line)
        durable = msg.get("durable", durable)
        record.blocked_max_s = max(record.blocked_max_s, msg.get("blocked", 0.0))
        if outage and durable == kill_after - 2:
            proxy.set_mode("drop")
        if durable >= kill_after:
            proc.kill()
            break
    proc.wait(timeout=60)
    proxy.set_mode("pass")
    model = _mlp(seed)
    expected = {step: _evolve(model, step) for step in range(steps)}
    from sparsetopo.graphstore.lease import LeaseHeldError

    give_up = time.monotonic() + LEASE_WAIT
    while True:
        record.repeats += 1
        try:
            with Recorder(_mlp(seed), run=run, connection=server.connection(), spool_dir=spool,
                          retry_interval=0.3) as rec:
                rec.flush(timeout=120)
            break
        except LeaseHeldError:  # the killed Recorder's lease (5 s) has not expired yet
            if time.monotonic() > give_up:
                record.problems.append("the killed Recorder's lease never expired")
                break
            time.sleep(1.0)
    try:
        check_run(driver, run, expected, set(range(durable + 1)), record)
        delete_run(driver, run)
    finally:
        driver.close()
    shutil.rmtree(spool, ignore_errors=True)
    record.ok = not record.problems
    return record


# -- analyze and delete -------------------------------------------------------------------------

def analyze_scenario(server: FaultServer, proxy: FaultProxy, work: Path, fault: str,
                     seed: int) -> FaultRecord:
    """Analysis write-back interrupted by `fault`; repeated until it completes; the graph data
    must be untouched and the results complete."""
    from sparsetopo.api.store import Store
    from sparsetopo.graphstore.writer import RunWriter

    record = FaultRecord("analyze", fault, seed)
    rng = random.Random(seed)
    run = f"fault-analyze-{seed}"
    expected = make_csv_run(work / f"an-{seed}", seed, 4, 60, 700)
    driver, _ = open_driver(server.connection())
    delete_run(driver, run)
    from sparsetopo.ingest.formats.csv_edges import csv_architecture

    writer = RunWriter(driver, run, csv_architecture(60))
    for snap in expected.values():
        writer.write(snap)
    writer.finish()
    fire(fault, server, proxy, rng.uniform(0.2, 1.5))
    start = time.monotonic()
    done = False
    try:
        with Store.connect(uri=f"bolt://127.0.0.1:{proxy.port}",
                           password=server.server.password(), start=False) as store:
            store.analyze(run, n_null=20, workers=1, seed=seed)
        done = True
    except Exception as exc:  # noqa: BLE001 - an error is fine, it must be one line
        if "\n" in str(exc).strip():
            record.problems.append(f"multi-line error: {type(exc).__name__}")
    record.blocked_max_s = time.monotonic() - start
    settle()  # the fault has fired (and a proxy fault healed)
    if fault.startswith("server-"):
        recover(fault, server, proxy)
    while not done and record.repeats < 3:
        record.repeats += 1
        try:
            with Store.connect(uri=server.connection().uri,
                               password=server.server.password(), start=False) as store:
                report = store.analyze(run, n_null=20, workers=1, seed=seed)
            done = True
            del report
        except Exception as exc:  # noqa: BLE001
            record.problems.append(f"repeat {record.repeats}: {type(exc).__name__}: {exc}")
    driver.close()
    driver, _ = open_driver(server.connection())
    try:
        check_run(driver, run, expected, set(expected), record)
        records, _, _ = driver.execute_query(
            "MATCH (s:Snapshot {run_id: $id}) WHERE s.complete "
            "RETURN count(s) AS n, count(s.ffl_balance) AS analysed",
            id=find_run(driver, run)["run_id"])
        if records[0]["n"] != records[0]["analysed"]:
            record.problems.append("analysis results missing after the repeat")
        delete_run(driver, run)
    finally:
        driver.close()
    record.ok = not record.problems and done
    return record


def delete_scenario(server: FaultServer, proxy: FaultProxy, work: Path, fault: str,
                    seed: int) -> FaultRecord:
    """`sparsetopo run delete` interrupted by `fault`; repeated; nothing of the run remains."""
    record = FaultRecord("delete", fault, seed)
    rng = random.Random(seed)
    run = f"fault-delete-{seed}"
    folder = work / f"del-{seed}"
    make_csv_run(folder, seed, 5, 150, 3000)
    env = server.env()
    code, stderr, _ = _run_cli_here(["ingest", str(folder), "--run", run, "--replace"], env)
    if code != 0:
        record.problems.append(f"setup ingest failed: {stderr[-200:]}")
        return record
    driver, _ = open_driver(server.connection())
    run_id = find_run(driver, run)["run_id"]
    proc = subprocess.Popen([*_sparsetopo(), "run", "delete", run, "-y"], env=server.env(proxy.port),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def deleting() -> bool:  # the import is over and the delete has begun (or is done)
        found = find_run(driver, run)
        return proc.poll() is not None or found is None or found.get("status") == "deleting"

    try:
        _wait_until(deleting, 120.0)
    finally:
        driver.close()
    time.sleep(rng.uniform(0.0, 0.2))
    fault_at = time.monotonic()
    record.mid_operation = proc.poll() is None
    if fault == "client-kill9":
        proc.kill()
    else:
        fire(fault, server, proxy, 0.0)
    _, stderr = proc.communicate(timeout=300)
    record.blocked_max_s = time.monotonic() - fault_at
    if fault != "client-kill9":
        _one_line_or_ok(proc.returncode, stderr, record, "delete during fault")
    if fault.startswith("server-"):
        recover(fault, server, proxy)
    else:
        settle()
    driver, _ = open_driver(server.connection())
    try:
        if find_run(driver, run) is not None:
            record.repeats += 1
            code, stderr, _ = _run_cli_here(["run", "delete", run, "-y"], env)
            _one_line_or_ok(code, stderr, record, "repeated delete")
        records, _, _ = driver.execute_query(
            "CALL { MATCH (n) WHERE n.run_id = $id RETURN count(n) AS nodes } "
            "CALL { MATCH ()-[r:SYNAPSE]->() WHERE r.run_id = $id RETURN count(r) AS rels } "
            "RETURN nodes, rels", id=run_id)
        left = (records[0]["nodes"], records[0]["rels"])
        if left != (0, 0) or find_run(driver, run) is not None:
            record.problems.append(f"after the repeated delete {left} nodes/SYNAPSEs remain")
        record.runs_checked += 1
    finally:
        driver.close()
    shutil.rmtree(folder, ignore_errors=True)
    record.ok = not record.problems
    return record



# -- issue 24: write-back boundaries, never-connected Recorders, spool errors --------------------

def _markers_backed(driver, run: str, record: FaultRecord, when: str) -> None:
    from sparsetopo.graphstore.results import unbacked_markers

    found = find_run(driver, run)
    if found is None:
        return
    gone = unbacked_markers(driver, found["run_id"])
    if gone:
        record.problems.append(f"{when}: markers without what they mark: {gone}")


def _analysis_complete(driver, run: str, record: FaultRecord) -> None:
    from sparsetopo.graphstore.results import read_pairs

    run_id = find_run(driver, run)["run_id"]
    seqs = [int(s["seq"]) for s in list_snapshots(driver, run)]
    chain = {(seqs[0], b) for b in seqs[1:]} | set(itertools.pairwise(seqs))
    nn = {(r["seq_a"], r["seq_b"]) for r in read_pairs(driver, "NNSTD", run_id, run_id)}
    ov = {(r["seq_a"], r["seq_b"]) for r in read_pairs(driver, "OVERLAP", run_id, run_id)}
    if nn != chain or ov != set(itertools.pairwise(seqs)):
        record.problems.append(f"after the repeat: NNSTD {sorted(nn)}, OVERLAP {sorted(ov)}")
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot {run_id: $id}) WHERE s.complete "
        "RETURN count(s) AS n, count(s.ffl_balance) AS analysed, count(s.analysis_motifs) AS m",
        id=run_id)
    if not records[0]["n"] == records[0]["analysed"] == records[0]["m"]:
        record.problems.append("analysis results missing after the repeat")


def _analysis_run(server: FaultServer, work: Path, run: str, seed: int, steps: int = 4):
    from sparsetopo.graphstore.writer import RunWriter
    from sparsetopo.ingest.formats.csv_edges import csv_architecture

    expected = make_csv_run(work / f"wb-{run}", seed, steps, 60, 700)
    driver, _ = open_driver(server.connection())
    delete_run(driver, run)
    writer = RunWriter(driver, run, csv_architecture(60))
    for snap in expected.values():
        writer.write(snap)
    writer.finish()
    return driver, expected


def analyze_boundary_scenario(server: FaultServer, proxy: FaultProxy, work: Path, fault: str,
                              seed: int, steps: int = 4) -> FaultRecord:
    """`analyze` killed right after each write-back commit in turn (one snapshot per
    transaction): the client with kill -9 (``client-kill-at-commit``, through the injection
    point of graphstore.results) or the server (``server-kill-at-commit``). After each kill
    every marker must have what it marks; a repeat must finish the analysis."""
    from sparsetopo.api.store import Store
    from sparsetopo.errors import ServerError
    from sparsetopo.graphstore import results as res

    record = FaultRecord("analyze-boundary", fault, seed)
    run = f"fault-wb-{seed}"
    driver, expected = _analysis_run(server, work, run, seed, steps)
    env = server.env()
    argv = ["analyze", run, "--n-null", "5", "--workers", "1"]

    # the commands that kill themselves at commit k, all launched now: their imports run side
    # by side and each waits for its turn
    pending = {k: _WarmCli(argv, {**env, res.FAULT_ENV: f"kill-after={k},chunk=1"})
               for k in range(1, steps) if fault == "client-kill-at-commit"}
    try:
        for k in range(1, steps):  # a kill after the last commit is a finished analysis
            start = time.monotonic()
            if fault == "client-kill-at-commit":
                code, stderr, _ = pending.pop(k).run(timeout=600)
                if code != -signal.SIGKILL:
                    record.problems.append(f"boundary {k}: analyze was not killed ({code}: "
                                           f"{stderr.strip()[-200:]})")
            else:
                res.after_commit = (lambda n, k=k: server.kill9() if n == k else None)
                old = res.SNAPSHOTS_PER_TRANSACTION
                res.SNAPSHOTS_PER_TRANSACTION = 1
                try:
                    with Store.connect(uri=server.connection().uri,
                                       password=server.server.password(), start=False) as store:
                        store.analyze(run, n_null=5, workers=1, seed=seed)
                    record.problems.append(f"boundary {k}: analyze did not notice the kill")
                except ServerError as exc:
                    if "\n" in str(exc).strip():
                        record.problems.append(f"boundary {k}: multi-line error")
                finally:
                    res.after_commit = None
                    res.SNAPSHOTS_PER_TRANSACTION = old
                record.blocked_max_s = max(record.blocked_max_s, time.monotonic() - start)
                recover("server-kill9", server, proxy)
                driver.close()
                driver, _ = open_driver(server.connection())
            record.blocked_max_s = max(record.blocked_max_s, time.monotonic() - start)
            _markers_backed(driver, run, record, f"after the kill at boundary {k}")
            record.repeats += 1
            code, stderr, _ = _run_cli_here(argv, env)
            _one_line_or_ok(code, stderr, record, "repeated analyze")
            if code != 0:
                record.problems.append(f"boundary {k}: the repeat failed: {stderr[-200:]}")
            _markers_backed(driver, run, record, f"after the repeat of boundary {k}")
            _analysis_complete(driver, run, record)
            # undo the analysis for the next boundary
            driver.execute_query(
                "MATCH (s:Snapshot {run_id: $id}) OPTIONAL MATCH (s)-[x:NNSTD|OVERLAP]->() "
                "DELETE x WITH DISTINCT s OPTIONAL MATCH (s)-[:HAS_MOTIF]->(m) DETACH DELETE m "
                "WITH DISTINCT s SET s.analysis_nnstd = null, s.analysis_overlap = null, "
                "s.analysis_motifs = null, s.analysis_balance = null, s.ffl_balance = null",
                id=find_run(driver, run)["run_id"])
        check_run(driver, run, expected, set(expected), record)
        delete_run(driver, run)
    finally:
        for cli in pending.values():
            cli.discard()
        driver.close()
    record.ok = not record.problems
    return record


def compare_boundary_scenario(server: FaultServer, proxy: FaultProxy, work: Path, fault: str,
                              seed: int, steps: int = 4) -> FaultRecord:
    """`sparsetopo compare` killed (-9) after each write-back commit in turn (one pair per
    transaction): every pair has both its NNSTD and OVERLAP relationship or neither; a repeat
    writes all pairs."""
    from sparsetopo.graphstore import results as res

    record = FaultRecord("compare-boundary", fault, seed)
    run_a, run_b = f"fault-cmp-{seed}-a", f"fault-cmp-{seed}-b"
    driver, expected = _analysis_run(server, work, run_a, seed, steps)
    driver.close()
    driver, _ = _analysis_run(server, work, run_b, seed + 1, steps)
    env = server.env()
    argv = ["compare", run_a, run_b, "--workers", "1"]

    # the commands that kill themselves at commit k, all launched now: their imports run side
    # by side and each waits for its turn
    pending = {k: _WarmCli(argv, {**env, res.FAULT_ENV: f"kill-after={k},chunk=1"})
               for k in range(1, steps)}
    try:
        ia, ib = find_run(driver, run_a)["run_id"], find_run(driver, run_b)["run_id"]
        for k in range(1, steps):
            code, stderr, took = pending.pop(k).run(timeout=600)
            record.blocked_max_s = max(record.blocked_max_s, took)
            if code != -signal.SIGKILL:
                record.problems.append(f"boundary {k}: compare was not killed ({code})")
            nn = {(r["seq_a"], r["seq_b"]) for r in res.read_pairs(driver, "NNSTD", ia, ib)}
            ov = {(r["seq_a"], r["seq_b"]) for r in res.read_pairs(driver, "OVERLAP", ia, ib)}
            if nn != ov or len(nn) != k:
                record.problems.append(f"boundary {k}: NNSTD {sorted(nn)} vs OVERLAP {sorted(ov)}")
            record.repeats += 1
            code, stderr, _ = _run_cli_here(argv, env)
            _one_line_or_ok(code, stderr, record, "repeated compare")
            if len(res.read_pairs(driver, "OVERLAP", ia, ib)) != steps:
                record.problems.append(f"boundary {k}: the repeat left pairs out")
            driver.execute_query("MATCH (:Snapshot {run_id: $a})-[x:NNSTD|OVERLAP]->"
                                 "(:Snapshot {run_id: $b}) DELETE x", a=ia, b=ib)
        check_run(driver, run_a, expected, set(expected), record)
        delete_run(driver, run_a)
        delete_run(driver, run_b)
    finally:
        for cli in pending.values():
            cli.discard()
        driver.close()
    record.ok = not record.problems
    return record


def never_connected_scenario(server: FaultServer, proxy: FaultProxy, work: Path, fault: str,
                             seed: int, steps: int = 6) -> FaultRecord:
    """A Recorder whose database is down (``proxy-drop``) or stalled (``proxy-hang``) from
    the start takes `steps` snapshots and closes; the next Recorder of the run replays them
    all (the run is created for them; never an empty run marked complete)."""
    from sparsetopo.ingest.recorder import Recorder

    record = FaultRecord("recorder-never-connected", fault, seed)
    run = f"fault-never-{seed}"
    spool = work / f"spool-never-{seed}"
    driver, _ = open_driver(server.connection())
    delete_run(driver, run)
    proxy.set_mode(fault.removeprefix("proxy-"))
    model = _mlp(seed)
    expected = {}
    rec = Recorder(model, run=run, connection=server.connection(proxy.port), spool_dir=spool,
                   retry_interval=0.3, close_timeout=2)
    for step in range(steps):
        expected[step] = _evolve(model, step)
        rec.snapshot(step)
    start = time.monotonic()
    try:
        rec.close()
    except Exception as exc:  # noqa: BLE001
        record.problems.append(f"close: {type(exc).__name__}: {exc}")
    record.blocked_max_s = max([*rec.blocking_seconds, time.monotonic() - start])
    proxy.set_mode("drop")
    proxy.set_mode("pass")
    record.repeats += 1
    try:
        with Recorder(_mlp(seed), run=run, connection=server.connection(), spool_dir=spool,
                      retry_interval=0.3) as again:
            again.flush(timeout=120)
    except Exception as exc:  # noqa: BLE001
        record.problems.append(f"next Recorder: {type(exc).__name__}: {exc}")
    try:
        check_run(driver, run, expected, set(expected), record)
        delete_run(driver, run)
    finally:
        driver.close()
    if spool.exists() and list(spool.rglob("*.npz")):
        record.problems.append("spool not empty after the replay")
    shutil.rmtree(spool, ignore_errors=True)
    record.ok = not record.problems
    return record


def spool_errno_scenario(server: FaultServer, proxy: FaultProxy, work: Path, fault: str,
                         seed: int, steps: int = 10) -> FaultRecord:
    """Database down (proxy drop) while every spool write fails with errno `fault`
    (``spool-EFBIG`` ...); then both heal. Every acknowledged step is stored or named in the
    error, snapshot() never hangs, refused steps are not stored."""
    import errno as errno_mod

    from sparsetopo.ingest import spool as spool_mod
    from sparsetopo.ingest.recorder import Recorder, SpoolFullError

    record = FaultRecord("recorder-spool-errno", fault, seed)
    code = getattr(errno_mod, fault.removeprefix("spool-"))
    run = f"fault-errno-{seed}"
    spool = work / f"spool-errno-{seed}"
    model = _mlp(seed)
    expected: dict[int, GraphSnapshot] = {}
    refused: set[int] = set()
    named: set[int] = set()
    real_write = spool_mod.SpoolDir.write
    broken = {"on": False}

    def write(self, index, snap):
        if broken["on"]:
            raise OSError(code, os.strerror(code))
        return real_write(self, index, snap)

    spool_mod.SpoolDir.write = write  # type: ignore[method-assign]
    try:
        rec = Recorder(model, run=run, connection=server.connection(proxy.port),
                       spool_dir=spool, retry_interval=0.3, close_timeout=60, replace=True,
                       queue_size=2)
        for step in range(steps):
            if step == 2:
                broken["on"] = True
                proxy.set_mode("drop")
            snap = _evolve(model, step)
            expected[step] = snap
            try:
                rec.snapshot(step)
            except SpoolFullError:
                refused.add(step)
            if step == steps - 3:
                broken["on"] = False
                proxy.set_mode("pass")
            time.sleep(0.05)
        try:
            rec.flush(timeout=120)
            rec.close()
        except SpoolFullError as exc:
            import re

            found = re.search(r"step\(s\) \[([0-9, ]*)\]", str(exc))
            named = {int(x) for x in found.group(1).split(",") if x.strip()} if found else set()
    finally:
        spool_mod.SpoolDir.write = real_write  # type: ignore[method-assign]
        proxy.set_mode("pass")
    record.blocked_max_s = max([*rec.blocking_seconds, 0.0])
    record.refused_reported = len(refused) + len(named)
    if not refused:
        record.problems.append("no snapshot was refused while the spool failed")
    driver, _ = open_driver(server.connection())
    try:
        check_run(driver, run, expected, set(expected) - refused - named, record)
        visible = {int(s["step"]) for s in list_snapshots(driver, run)}
        if visible & refused:
            record.problems.append(f"refused steps {sorted(visible & refused)} were stored")
        delete_run(driver, run)
    finally:
        driver.close()
    shutil.rmtree(spool, ignore_errors=True)
    record.ok = not record.problems
    return record


#: Errnos of the spool-error faults (each ends in SpoolFullError, never a hang).
SPOOL_ERRNOS = ("EFBIG", "EIO", "ENOSPC", "EDQUOT", "EACCES", "EROFS", "EPERM", "EMFILE")

Scenario = Callable[..., FaultRecord]


def mount_small_fs(path: Path, size: str = "96k") -> bool:
    """A tiny tmpfs for the disk-full faults (root only); False when not possible."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                           str(path)], capture_output=True, check=False)
    return proc.returncode == 0


def unmount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True, check=False)


def plan(long: bool, disk_full: bool) -> list[tuple[str, str, int]]:
    """(scenario, fault, seed) triples. Server faults need their own server; the rest go
    through the proxy. The short plan is a fixed subset with fixed seeds."""
    if not long:
        items = [("ingest", "server-kill9", 1), ("ingest", "proxy-drop", 2),
                 ("ingest", "proxy-hang-then-cut", 3), ("ingest", "client-kill9", 4),
                 ("recorder", "proxy-drop", 5), ("recorder", "proxy-hang-then-cut", 6),
                 ("recorder", "server-stop", 7), ("recorder", "client-kill9", 8),
                 ("analyze", "proxy-drop", 9), ("delete", "proxy-drop", 10),
                 ("delete", "client-kill9", 11)]
        if disk_full:
            items.append(("recorder", "spool-full", 12))
        items += [("analyze-boundary", "client-kill-at-commit", 13),
                  ("compare-boundary", "client-kill-at-commit", 14),
                  ("recorder-never-connected", "proxy-drop", 15),
                  ("recorder-never-connected", "proxy-hang", 16),
                  ("recorder-spool-errno", "spool-EFBIG", 17)]
        return items
    # Server faults cost a restart (a minute on a loaded 2-core machine): one or two of each
    # kind; the network and client faults, which are cheap, are repeated with other seeds.
    out = [("ingest", "server-kill9", 101), ("ingest", "server-stop", 102),
           ("recorder", "server-kill9", 103), ("recorder", "server-stop", 104),
           ("analyze", "server-kill9", 105), ("delete", "server-kill9", 106)]
    cheap = {
        "ingest": ["proxy-drop", "proxy-hang-then-cut", "proxy-slow", "client-kill9"],
        "recorder": ["proxy-drop", "proxy-hang-then-cut", "proxy-slow", "client-kill9"]
        + (["spool-full"] if disk_full else []),
        "analyze": ["proxy-drop", "proxy-hang-then-cut", "proxy-slow"],
        "delete": ["proxy-drop", "proxy-hang-then-cut", "client-kill9"],
    }
    out += [("analyze-boundary", "server-kill-at-commit", 107),
            ("analyze-boundary", "client-kill-at-commit", 108),
            ("compare-boundary", "client-kill-at-commit", 109),
            ("recorder-never-connected", "proxy-drop", 110),
            ("recorder-never-connected", "proxy-hang", 111)]
    out += [("recorder-spool-errno", f"spool-{name}", 120 + k)
            for k, name in enumerate(SPOOL_ERRNOS)]
    seed = 200
    for _ in range(3):
        for scenario, kinds in cheap.items():
            for fault in kinds:
                seed += 1
                out.append((scenario, fault, seed))
    return out


def run_one(scenario: str, fault: str, seed: int, server: FaultServer, proxy: FaultProxy,
            work: Path, spool_fs: Path | None = None) -> FaultRecord:
    if scenario == "ingest":
        return ingest_scenario(server, proxy, work, fault, seed)
    if scenario == "recorder" and fault == "client-kill9":
        return recorder_client_kill_scenario(server, proxy, work, seed)
    if scenario == "recorder":
        return recorder_scenario(server, proxy, work, fault, seed,
                                 spool_fs=spool_fs if fault == "spool-full" else None)
    if scenario == "analyze":
        return analyze_scenario(server, proxy, work, fault, seed)
    if scenario == "delete":
        return delete_scenario(server, proxy, work, fault, seed)
    if scenario == "analyze-boundary":
        return analyze_boundary_scenario(server, proxy, work, fault, seed)
    if scenario == "compare-boundary":
        return compare_boundary_scenario(server, proxy, work, fault, seed)
    if scenario == "recorder-never-connected":
        return never_connected_scenario(server, proxy, work, fault, seed)
    if scenario == "recorder-spool-errno":
        return spool_errno_scenario(server, proxy, work, fault, seed)
    raise ValueError(scenario)


def summary_table(records: list[FaultRecord]) -> str:
    """The docs/reliability.md table: one row per scenario and fault kind."""
    rows: dict[tuple[str, str], list[FaultRecord]] = {}
    for r in records:
        rows.setdefault((r.scenario, r.fault), []).append(r)
    lines = ["| operation | fault | injected | landed mid-operation | runs checked | snapshots "
             "checked | snapshots lost | refused with an error | repeats needed | max blocking "
             "per call (s) | all checks passed |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (scenario, fault), rs in rows.items():
        lines.append(
            f"| {scenario} | {fault} | {len(rs)} | {sum(r.mid_operation for r in rs)} | "
            f"{sum(r.runs_checked for r in rs)} | "
            f"{sum(r.snapshots_checked for r in rs)} | {sum(r.snapshots_lost for r in rs)} | "
            f"{sum(r.refused_reported for r in rs)} | {sum(r.repeats for r in rs)} | "
            f"{max(r.blocked_max_s for r in rs):.2f} | "
            f"{sum(r.ok for r in rs)}/{len(rs)} |")
    total = len(records)
    lines.append(
        f"| **all** | | **{total}** | {sum(r.mid_operation for r in records)} | "
        f"{sum(r.runs_checked for r in records)} | "
        f"{sum(r.snapshots_checked for r in records)} | "
        f"**{sum(r.snapshots_lost for r in records)}** | "
        f"{sum(r.refused_reported for r in records)} | {sum(r.repeats for r in records)} | "
        f"{max((r.blocked_max_s for r in records), default=0):.2f} | "
        f"{sum(r.ok for r in records)}/{total} |")
    return "\n".join(lines)


# -- concurrency ----------------------------------------------------------------------------

def _write_csv_run(info: ConnectionInfo, folder: Path, run: str, replace: bool = True) -> None:
    from sparsetopo.ingest.importers import read_inputs
    from sparsetopo.ingest.run_import import import_plan

    driver, _ = open_driver(info, fail_fast=True)
    try:
        import_plan(driver, read_inputs([folder]), run, replace=replace)
    finally:
        driver.close()


def concurrent_writers(server: FaultServer, work: Path, n: int = 8, seed: int = 500) -> FaultRecord:
    """`n` writers on different runs at once, plus analyze of another run; all exact."""
    import threading

    from sparsetopo.api.store import Store

    record = FaultRecord("concurrency", f"{n} writers + analyze", seed)
    info = server.connection()
    sources = {}
    for k in range(n):
        sources[f"conc-{seed}-{k}"] = make_csv_run(work / f"conc-{k}", seed + k, 4, 120, 1500)
    base = f"conc-{seed}-analyzed"
    sources[base] = make_csv_run(work / "conc-base", seed + 99, 3, 60, 500)
    _write_csv_run(info, work / "conc-base", base)
    errors: list[str] = []

    def write(k: int) -> None:
        try:
            _write_csv_run(info, work / f"conc-{k}", f"conc-{seed}-{k}")
        except Exception as exc:  # noqa: BLE001
            errors.append(f"writer {k}: {type(exc).__name__}: {exc}")

    def analyze() -> None:
        try:
            with Store.connect(uri=info.uri, password=info.password, start=False) as store:
                store.analyze(base, n_null=10, workers=1, force=True)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"analyze: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=write, args=(k,)) for k in range(n)]
    threads.append(threading.Thread(target=analyze))
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    record.blocked_max_s = time.monotonic() - start
    record.problems += errors
    driver, _ = open_driver(info)
    try:
        for run, expected in sources.items():
            check_run(driver, run, expected, set(expected), record)
            delete_run(driver, run)
    finally:
        driver.close()
    record.ok = not record.problems
    return record


def two_writers_one_run(server: FaultServer, work: Path, seed: int = 600) -> FaultRecord:
    """A second writer joining a run that is being written is refused; the first finishes
    exact (needs the writer lease of decision 0003)."""
    import threading

    from sparsetopo.errors import StoreError

    record = FaultRecord("concurrency", "two writers on one run", seed)
    info = server.connection()
    run = f"two-writers-{seed}"
    first = make_csv_run(work / "w-first", seed, 6, 150, 3000)
    make_csv_run(work / "w-second", seed + 1, 6, 150, 3000)
    driver, _ = open_driver(info)
    delete_run(driver, run)
    errors: list[str] = []

    def write_first() -> None:
        try:
            _write_csv_run(info, work / "w-first", run, replace=False)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"first writer: {type(exc).__name__}: {exc}")

    thread = threading.Thread(target=write_first)
    thread.start()
    deadline = time.monotonic() + 120
    while find_run(driver, run) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    start = time.monotonic()
    try:
        _write_csv_run(info, work / "w-second", run, replace=False)
        record.problems.append("the second writer was not refused")
    except StoreError as exc:
        if "\n" in str(exc):
            record.problems.append("multi-line refusal")
    except Exception as exc:  # noqa: BLE001
        record.problems.append(f"second writer: {type(exc).__name__}: {exc}")
    record.blocked_max_s = time.monotonic() - start
    thread.join(600)
    record.problems += errors
    check_run(driver, run, first, set(first), record)
    delete_run(driver, run)
    driver.close()
    record.ok = not record.problems
    return record


def analyze_while_writing(server: FaultServer, work: Path, seed: int = 700) -> FaultRecord:
    """Analyze a run again and again while its snapshots are being written: analysis sees only
    complete snapshots, and a final analyze covers all of them."""
    import threading

    from sparsetopo.api.store import Store

    record = FaultRecord("concurrency", "analyze while writing", seed)
    info = server.connection()
    run = f"analyze-writing-{seed}"
    expected = make_csv_run(work / "aw", seed, 6, 80, 1200)
    errors: list[str] = []
    thread = threading.Thread(target=lambda: _write_csv_run(info, work / "aw", run))
    thread.start()
    start = time.monotonic()
    with Store.connect(uri=info.uri, password=info.password, start=False) as store:
        while thread.is_alive():
            try:
                if find_run(store.driver, run) is not None:
                    store.analyze(run, n_null=5, workers=1)
            except Exception as exc:  # noqa: BLE001
                if "no complete snapshot" not in str(exc) and "no snapshots" not in str(exc):
                    errors.append(f"analyze during writing: {type(exc).__name__}: {exc}")
            time.sleep(0.2)
        thread.join()
        store.analyze(run, n_null=5, workers=1)
        records, _, _ = store.driver.execute_query(
            "MATCH (r:Run {name: $run}) MATCH (s:Snapshot {run_id: r.run_id}) WHERE s.complete "
            "RETURN count(s) AS n, count(s.ffl_balance) AS analysed", run=run)
    record.blocked_max_s = time.monotonic() - start
    record.problems += errors
    if records[0]["n"] != records[0]["analysed"]:
        record.problems.append("snapshots left unanalysed")
    driver, _ = open_driver(info)
    check_run(driver, run, expected, set(expected), record)
    delete_run(driver, run)
    driver.close()
    record.ok = not record.problems
    return record
