#!/usr/bin/env python3
"""Snapshots of the fold (issue 14): the close of business and `GET /loans/{id}` before and after.

    benches/snapshots.py --binary target/release/coopfund [--binary-before /tmp/coopfund-before] [--backend sqlite]

For each binary, on a fresh database of the backend (SQLite file or a new PostgreSQL database):
  1. `coopfund demo --loans N` (the bulk fund), `serve` started;
  2. two open loans brought to 200 and 2,000 transactions by sequential 1,000 đồng repayments over HTTP;
  3. the read load `GET /api/v1/loans/{id}` on each (wrk, 4 connections): no snapshot exists yet (the bulk demo
     writes none), so this is the full refold;
  4. one close of business (the business date): the first one writes every open loan's snapshot;
  5. the read load again on both loans: now from the snapshot;
  6. the close of business over 3 more days, as open loan-days per second (each day advances the snapshots).
A binary without snapshots (`--binary-before`, e.g. main's) runs the same steps for comparison.

It reuses the service, wrk and database helpers of `benches/load.py` (the load script of issue 14).
Benchmarks, not tests: the machine is shared and noisy; compare the figures of one run with each other.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (benches/load.py)


def run(binary: Path, kind: str, loans: int, history: list[int], read_seconds: int, workdir: Path,
        run_id: str) -> dict:
    result: dict = {"binary": str(binary), "backend": kind}
    backend = load.Backend(kind, workdir, run_id)
    service = load.Service(binary, backend, workdir, "warn")
    try:
        result["demo_s"], _ = service.cli("demo", "--loans", str(loans))
        service.cli("user", "add", "--username", load.USERNAME, "--role", "accountant", "--full-name",
                    "Snapshot benchmark", stdin=load.PASSWORD + "\n")
        service.start()
        service.login()
        _, dates = service.request("GET", "/api/v1/business-date")
        today = dates["business_date"]
        open_ids = backend.column("SELECT id FROM loans WHERE status = 'active' AND "
                                  "in_term_principal_vnd + overdue_principal_vnd >= 10000000 ORDER BY id")
        ids = [int(open_ids[0]), int(open_ids[1])]
        result["history"] = [load.build_history(service, loan_id, target, run_id, today, backend)
                             for loan_id, target in zip(ids, history)]

        def reads(label: str) -> None:
            for loan_id, built in zip(ids, result["history"]):
                read_file = workdir / f"read-{loan_id}.txt"
                read_file.write_text(f"{loan_id}\n")
                read = load.wrk(service, "read", read_file, today, run_id, read_seconds, 4)
                read["transactions"] = built["transactions"]
                result.setdefault(label, []).append(read)

        reads("read_before_cob")
        result["cob_first"] = load.close_of_business(service, backend, today)
        try:
            result["snapshots"] = int(backend.scalar("SELECT COUNT(*) FROM loan_snapshots"))
            result["snapshot_bytes_avg"] = float(backend.scalar("SELECT AVG(LENGTH(state)) FROM loan_snapshots"))
        except Exception:  # noqa: BLE001  (a binary before snapshots has no such table)
            result["snapshots"] = 0
        reads("read_after_cob")
        through = (dt.date.fromisoformat(today) + dt.timedelta(days=3)).isoformat()
        result["cob_3_days"] = load.close_of_business(service, backend, through)
        result["rss_peak_mb"] = service.status_kb("VmHWM") / 1024
    finally:
        service.stop()
        backend.drop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", type=Path, required=True)
    parser.add_argument("--binary-before", type=Path)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--history", default="200,2000")
    parser.add_argument("--read-seconds", type=int, default=10)
    args = parser.parse_args()
    history = [int(x) for x in args.history.split(",")]
    binaries = [b for b in (args.binary_before, args.binary) if b]
    with tempfile.TemporaryDirectory(prefix="coopfund-snapshots-") as tmp:
        for number, binary in enumerate(binaries):
            run_id = f"{os.getpid()}_{int(time.time())}_{number}"
            result = run(binary.resolve(), args.backend, args.loans, history, args.read_seconds, Path(tmp), run_id)
            ms = load.ms
            print(f"== {binary} on {args.backend}, load average {os.getloadavg()[0]:.1f}")
            for built in result["history"]:
                print(f"posting: {built['posts']} posts to {built['transactions']} tx in {built['wall_s']:.1f} s "
                      f"(last tenth {built['last_tenth_ms_per_post']:.1f} ms/post)")
            for label in ("read_before_cob", "read_after_cob"):
                for read in result[label]:
                    print(f"{label}: GET /loans/{{id}} at {read['transactions']} tx: p50 {ms(read['p50_us'])} ms, "
                          f"p99 {ms(read['p99_us'])} ms, {read['ok_per_s']:.0f}/s")
            for label in ("cob_first", "cob_3_days"):
                c = result[label]
                print(f"{label}: {c['days']} days × {c['open_loans']} loans in {c['wall_s']:.1f} s = "
                      f"{c['loan_days_per_s']:.0f} loan-days/s (serve CPU {c['serve_cpu_s']:.1f} s)")
            print(f"snapshots stored: {result['snapshots']}, average {result.get('snapshot_bytes_avg', 0):.0f} bytes; "
                  f"serve peak RSS {result['rss_peak_mb']:.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
