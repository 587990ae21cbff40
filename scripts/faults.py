#!/usr/bin/env python
"""The fault-injection campaign of issue 10 (long version; the short one runs in the test suite
as tests/faults/test_campaign.py).

    python scripts/faults.py [--short] [--bolt-port 17713 --http-port 17413] [--home DIR]

Starts its own managed server (own home and ports; the jars are linked from the test server's
home, $SPARSETOPO_HOME), injects the faults of tests.faults.harness.plan, runs the malformed-input
cases against it and the concurrency scenarios, prints one JSON line per check and rewrites the
results section of docs/reliability.md. Root is needed only for the disk-full faults (a tiny
tmpfs); without it they are left out and the table says so.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.faults import harness  # noqa: E402
from tests.faults.proxy import FaultProxy  # noqa: E402

BEGIN = "<!-- faults.py results: begin -->"
END = "<!-- faults.py results: end -->"


def malformed(server: harness.FaultServer, work: Path) -> tuple[int, int, list[str]]:
    """Run every malformed-input case against `server`: (cases, passed, failures)."""
    from typer.testing import CliRunner

    from sparsetopo.cli.main import app
    from sparsetopo.graphstore.connection import open_driver
    from sparsetopo.graphstore.runs import delete_run
    from tests.faults.malformed import BASE_RUN, build_base_run, cases
    from tests.faults.test_malformed import check_case

    info = server.connection()
    os.environ.update(NEO4J_URI=info.uri, NEO4J_USER=info.user, NEO4J_PASSWORD=info.password)
    runner = CliRunner()
    driver, _ = open_driver(info)
    failures = []
    all_cases = cases()
    try:
        base = work / "malformed-base"
        base.mkdir()
        build_base_run(lambda argv: runner.invoke(app, argv).exit_code, base)
        for k, case in enumerate(all_cases):
            folder = work / f"malformed-{k}"
            folder.mkdir()
            try:
                check_case(case, folder, driver)
            except AssertionError as exc:
                failures.append(f"{case.name}: {str(exc)[:300]}")
        delete_run(driver, BASE_RUN)
    finally:
        driver.close()
        for key in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD"):
            os.environ.pop(key, None)
    return len(all_cases), len(all_cases) - len(failures), failures


def write_doc(table: str, extra: list[str]) -> None:
    doc = ROOT / "docs" / "reliability.md"
    text = doc.read_text()
    body = "\n".join([BEGIN, table, "", *extra, END])
    start, end = text.index(BEGIN), text.index(END) + len(END)
    doc.write_text(text[:start] + body + text[end:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the short plan of the test suite")
    parser.add_argument("--bolt-port", type=int, default=17713)
    parser.add_argument("--http-port", type=int, default=17413)
    parser.add_argument("--home", type=Path, default=ROOT / ".fault-home")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/reliability.md")
    args = parser.parse_args()

    from sparsetopo.server.config import home_dir

    server = harness.FaultServer(args.home, args.bolt_port, args.http_port, home_dir())
    started = time.monotonic()
    if not server.server.is_running():
        server.start()
    work = Path(tempfile.mkdtemp(prefix="sparsetopo-faults-"))
    small = work / "small-fs"
    disk_full = harness.mount_small_fs(small)
    records = []
    try:
        todo = harness.plan(long=not args.short, disk_full=disk_full)
        for scenario, fault, seed in todo:
            proxy = FaultProxy(args.bolt_port)
            t0 = time.monotonic()
            try:
                record = harness.run_one(scenario, fault, seed, server, proxy, work, small)
            except Exception as exc:  # noqa: BLE001 - a crashed scenario is a failed check
                record = harness.FaultRecord(scenario, fault, seed,
                                             problems=[f"{type(exc).__name__}: {exc}"])
                if not server.server.is_running():
                    server.restart()
            finally:
                proxy.close()
            records.append(record)
            print(json.dumps({**record.as_dict(), "seconds": round(time.monotonic() - t0, 1)}),
                  flush=True)
            if not args.no_doc:  # so an interrupted campaign still leaves its table
                write_doc(harness.summary_table(records),
                          ["", f"(partial: {len(records)} of {len(todo)} faults so far)"])
        concurrency = [harness.concurrent_writers(server, work / "c1"),
                       harness.analyze_while_writing(server, work / "c3")]
        try:
            concurrency.append(harness.two_writers_one_run(server, work / "c2"))
        except Exception as exc:  # noqa: BLE001
            concurrency.append(harness.FaultRecord("concurrency", "two writers on one run", 600,
                                                   problems=[f"{type(exc).__name__}: {exc}"]))
        for record in concurrency:
            print(json.dumps(record.as_dict()), flush=True)
        n_cases, n_passed, failures = malformed(server, work)
        print(json.dumps({"malformed_cases": n_cases, "passed": n_passed, "failures": failures}),
              flush=True)
    finally:
        if disk_full:
            harness.unmount(small)
        server.stop()
    minutes = (time.monotonic() - started) / 60
    conc_lines = ["| concurrency check | runs checked | snapshots checked | snapshots lost | "
                  "wall time (s) | passed | problems |", "|---|---|---|---|---|---|---|"]
    for r in concurrency:
        conc_lines.append(f"| {r.fault} | {r.runs_checked} | {r.snapshots_checked} | "
                          f"{r.snapshots_lost} | {r.blocked_max_s:.1f} | {'yes' if r.ok else 'no'} "
                          f"| {'; '.join(r.problems)[:200]} |")
    failed = [r for r in records if not r.ok]
    extra = [
        "",
        *conc_lines,
        "",
        f"Malformed inputs: {n_passed} of {n_cases} cases passed (exit code, one-line message "
        "naming the file or parameter and the fix, database unchanged)"
        + (f"; failures: {'; '.join(failures)}" if failures else "."),
        "",
        f"Plan: {'short' if args.short else 'long'}; disk-full faults: "
        f"{'tmpfs of 96 KiB' if disk_full else 'left out (needs root for a tmpfs)'}; "
        f"server restarts: {server.restarts}; wall time {minutes:.0f} min on "
        f"{os.cpu_count()} cores.",
    ]
    if failed:
        extra.append("")
        extra.append("Failed checks: " + "; ".join(
            f"{r.scenario}/{r.fault}/seed {r.seed}: {' | '.join(r.problems)[:300]}" for r in failed))
    if not args.no_doc:
        write_doc(harness.summary_table(records), extra)
    ok = not failed and not failures and all(r.ok for r in concurrency)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
