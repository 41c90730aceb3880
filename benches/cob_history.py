#!/usr/bin/env python3
"""The close of business as the fund's history grows (issue 14: "fold once, not every time").

    benches/cob_history.py --binary target/release-lines/coopfund [--binary B2 ...] [--backend sqlite|postgres]
                           [--loans 10000] [--history-days 60] [--rounds 1]

For each binary (alternating, `--rounds` times), on a fresh database of the backend:
  1. `coopfund demo --loans N` (the bulk fund), `serve` started;
  2. the close of business of 3 days (`POST /api/v1/cob/run`), measured: a fund with no history;
  3. the close of `--history-days` more days (measured too, as a whole: month-ends, loans falling overdue);
  4. the close of 3 more days, measured: the same loans with `--history-days` days of accruals behind them.
It prints open loan-days per second and `serve`'s CPU for each measured close. A close whose cost grows with the
loans' history shows as step 4 slower than step 2.

It reuses the service and database helpers of `benches/load.py`. Benchmarks, not tests: compare the figures of
one run with each other.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (benches/load.py)


def close_through(service: load.Service, backend: load.Backend, through: str) -> dict:
    figures = load.close_of_business(service, backend, through)
    return {"through": through, **figures, "wall_s": round(figures["wall_s"], 2),
            "loan_days_per_s": round(figures["loan_days_per_s"]), "serve_cpu_s": round(figures["serve_cpu_s"], 2)}


def run(binary: Path, kind: str, loans: int, history_days: int, workdir: Path, run_id: str) -> dict:
    backend = load.Backend(kind, workdir, run_id)
    service = load.Service(binary, backend, workdir, "warn")
    try:
        service.cli("demo", "--loans", str(loans))
        service.cli("user", "add", "--username", load.USERNAME, "--role", "accountant", "--full-name",
                    "COB history benchmark", stdin=load.PASSWORD + "\n")
        service.start()
        service.login()
        _, dates = service.request("GET", "/api/v1/business-date")
        today = dt.date.fromisoformat(dates["business_date"])
        day = lambda n: (today + dt.timedelta(days=n)).isoformat()  # noqa: E731
        fresh = close_through(service, backend, day(2))
        history = close_through(service, backend, day(2 + history_days))
        lines = int(backend.scalar("SELECT COUNT(*) FROM journal_lines WHERE loan_id IS NOT NULL"))
        after = close_through(service, backend, day(5 + history_days))
        return {"binary": str(binary), "backend": kind, "fresh": fresh, "history": history,
                "loan_lines_before_last": lines, "after_history": after}
    finally:
        service.stop()
        backend.drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", action="append", type=Path, required=True)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--history-days", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="coopfund-cob-history-") as tmp:
        for round_no in range(args.rounds):
            for index, binary in enumerate(args.binary):
                run_id = f"h{round_no}{index}{int(time.time())}"
                workdir = Path(tmp) / run_id
                workdir.mkdir()
                result = run(binary, args.backend, args.loans, args.history_days, workdir, run_id)
                results.append(result)
                fresh, after = result["fresh"], result["after_history"]
                print(f"{binary} ({args.backend}): 3 days fresh {fresh['loan_days_per_s']} loan-days/s "
                      f"(serve CPU {fresh['serve_cpu_s']} s); {args.history_days} days "
                      f"{result['history']['loan_days_per_s']} loan-days/s; 3 days after them "
                      f"{after['loan_days_per_s']} loan-days/s (serve CPU {after['serve_cpu_s']} s, "
                      f"{result['loan_lines_before_last']} loan lines)", flush=True)
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
