#!/usr/bin/env python3
"""The service's load benchmark (issue 14): one command, both backends, every figure of the issue's table.

    benches/load.py                       # release build (profile release-lines), SQLite and PostgreSQL, 10,000 loans
    benches/load.py --loans 100000        # the large fund
    benches/load.py --backends sqlite --no-build --binary target/release-lines/coopfund
    benches/load.py --loans 100000 --phases load,repay,cob   # only some phases (the fund is always loaded)

For each backend, on a fresh database (a temporary SQLite file; a new PostgreSQL database dropped at the end):
  1. `coopfund demo --loans N` (the bulk fund), timed;
  2. an accountant account, `coopfund serve` started (cron jobs and mail off, log level warn), a bearer token;
  3. PostgreSQL only: pgbench (`-c 4 -j 2 -s 10`, same duration) on its own database, just before the load,
     so every PostgreSQL figure is also printed as a ratio to what this machine's PostgreSQL does right now;
     then the SQL of one repayment alone (`benches/repayment_floor.sql`, and `repayment_floor_fewer.sql`: the
     same rows in 6 round trips; pgbench `-c 4 -j 2`, `--floor-protocol`, on a fresh copy each of a scratch
     fund of 1,000 loans): the ceiling the service could reach, also as a ratio to pgbench; PostgreSQL's CPU
     per transaction of each (and per repayment of the load), read from /proc when the server is local;
  4. the repayment load: wrk, 4 connections for 15 s, each request a 1,000 đồng repayment on an open loan drawn
     at random, with its own Idempotency-Key; then the same load paced to about 80% of that throughput;
     SQLite only, right after it: the SQL of one repayment alone (`benches/repayment_floor_sqlite.py`, on a
     copy of the fund with the load's rows, one connection, one commit a repayment and then four): the
     ceiling of the embedded database without the service;
  5. two loans brought to 200 and 2,000 transactions by sequential repayments over HTTP (timed: the cost of
     posting onto a loan as its history grows), then the read load `GET /api/v1/loans/{id}` on each;
  6. the close of business over 3 days (`POST /api/v1/cob/run`), as open loan-days per second;
  7. the peak RSS of `serve` (VmHWM of /proc/PID/status) once started on the fund, after the repayment load,
     and during the close of business alone (the peak is reset before it through /proc/PID/clear_refs).

`--phases` picks among load,repay,paced,history,read,cob (and `verify`: `ledger verify` of the loaded fund,
timed, not in the default); the fund is loaded whatever the list.

Benchmarks, not tests: nothing here passes or fails on a figure. The machine is shared and noisy: compare
figures of one run with each other (the pgbench ratio), and rerun before believing a difference of 10%.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WRK_LUA = REPO / "benches" / "load" / "wrk.lua"
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PASSWORD = "load-bench-password-1"
USERNAME = "load.accountant"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url: str, sql: str) -> str:
    out = subprocess.run(["psql", url, "-tAq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Backend:
    """A fresh database of one kind: its URL, a way to run a scalar query, and its removal."""

    def __init__(self, kind: str, workdir: Path, run_id: str):
        self.kind = kind
        if kind == "sqlite":
            self.path = workdir / "load.db"
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            self.url = f"sqlite://{self.path}?mode=rwc"
        else:
            self.db = f"coopfund_load_{run_id}"
            psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {self.db}")
            psql(PG_ADMIN_URL, f"CREATE DATABASE {self.db}")
            self.url = f"postgres://postgres@127.0.0.1:5432/{self.db}"

    def scalar(self, sql: str) -> str:
        if self.kind == "sqlite":
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as conn:
                return str(conn.execute(sql).fetchone()[0])
        return psql(self.url, sql)

    def column(self, sql: str) -> list[str]:
        if self.kind == "sqlite":
            with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as conn:
                return [str(row[0]) for row in conn.execute(sql)]
        return [line for line in psql(self.url, sql).splitlines() if line]

    def drop(self) -> None:
        if self.kind == "postgres":
            psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")


class Service:
    """`coopfund serve` on a backend, with the environment every step of the run shares."""

    def __init__(self, binary: Path, backend: Backend, workdir: Path, log_level: str):
        self.binary = binary
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update({
            "COOPFUND__DATABASE__URL": backend.url,
            "COOPFUND__SERVER__PORT": str(self.port),
            "COOPFUND__LOG__LEVEL": log_level,
            "COOPFUND__COB__ENABLED": "false",
            "COOPFUND__COB__ALLOW_FUTURE_DATES": "true",
            "COOPFUND__BACKUP__ENABLED": "false",
            "COOPFUND__BACKUP__DIR": str(workdir / "backups"),
            "COOPFUND__SMTP__ENABLED": "false",
            "COOPFUND_ADMIN_PASSWORD": PASSWORD,
        })
        self.env.pop("RUST_LOG", None)
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / f"serve-{backend.kind}.log"
        self.token = ""

    def cli(self, *args: str, stdin: str | None = None) -> tuple[float, str]:
        started = time.monotonic()
        out = subprocess.run([str(self.binary), *args], env=self.env, cwd=REPO, input=stdin,
                             capture_output=True, text=True)
        wall = time.monotonic() - started
        if out.returncode != 0:
            raise RuntimeError(f"coopfund {' '.join(args)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
        return wall, out.stdout

    def start(self) -> None:
        self.process = subprocess.Popen([str(self.binary), "serve"], env=self.env, cwd=REPO,
                                        stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited: see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError("serve did not become ready in 120 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def status_kb(self, field: str) -> int:
        assert self.process is not None
        text = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
        return int(match.group(1)) if match else 0

    def reset_peak_rss(self) -> bool:
        """Resets the peak resident set size (VmHWM) to the current one (`5` into /proc/PID/clear_refs,
        Linux ≥ 4.0), so the next peak read is that of what runs from now on. False if not allowed."""
        assert self.process is not None
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def cpu_seconds(self) -> float:
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def request(self, method: str, path: str, body: dict | None = None, key: str | None = None,
                conn: http.client.HTTPConnection | None = None, timeout: float = 600) -> tuple[int, dict]:
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if key:
            headers["Idempotency-Key"] = key
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if own:
            conn.close()
        return response.status, (json.loads(data) if data else {})

    def login(self) -> None:
        status, body = self.request("POST", "/api/v1/auth/token",
                                    {"username": USERNAME, "password": PASSWORD})
        if status != 200:
            raise RuntimeError(f"login failed: {status} {body}")
        self.token = body["token"]


def wrk(service: Service, mode: str, ids_file: Path, value_date: str, run: str, seconds: int,
        connections: int, delay_ms: int = 0) -> dict:
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(WRK_LUA),
         f"http://127.0.0.1:{service.port}", "--", mode, service.token, str(ids_file), value_date, run,
         str(delay_ms)],
        capture_output=True, text=True, check=True)
    for line in out.stderr.splitlines():
        log(line)
    line = next(l for l in out.stdout.splitlines() if l.startswith("JSON "))
    result = json.loads(line[5:])
    seconds_measured = result["duration_us"] / 1e6
    ok = result["requests"] - result["errors_status"]
    result["ok_per_s"] = ok / seconds_measured
    result["failed"] = (result["errors_status"] + result["errors_connect"] + result["errors_read"]
                        + result["errors_write"] + result["errors_timeout"])
    return result


def pgbench(seconds: int, run_id: str) -> dict:
    db = f"coopfund_pgbench_{run_id}"
    psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {db}")
    psql(PG_ADMIN_URL, f"CREATE DATABASE {db}")
    try:
        common = ["-h", "127.0.0.1", "-U", "postgres"]
        subprocess.run(["pgbench", "-i", "-q", "-s", "10", *common, db], check=True, capture_output=True)
        cpu_before = postgres_cpu_seconds()
        out = subprocess.run(["pgbench", "-c", "4", "-j", "2", "-T", str(seconds), *common, db],
                             check=True, capture_output=True, text=True).stdout
        cpu_after = postgres_cpu_seconds()
        tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
        latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
        return {"tps": tps, "latency_avg_ms": latency,
                "postgres_cpu_ms_per_tx": postgres_cpu_ms_per_tx(cpu_before, cpu_after, out)}
    finally:
        psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")



FLOOR_SQL = REPO / "benches" / "repayment_floor.sql"
# The same rows in 6 round trips instead of 20 (issue 14, pgtrips).
FLOOR_FEWER_SQL = REPO / "benches" / "repayment_floor_fewer.sql"
FLOOR_LOANS = 1000


def postgres_cpu_ms_per_tx(before: float | None, after: float | None, pgbench_out: str) -> float | None:
    """PostgreSQL's CPU milliseconds per transaction pgbench reported processed, or None."""
    processed = re.search(r"actually processed: (\d+)", pgbench_out)
    if before is None or after is None or not processed or int(processed.group(1)) == 0:
        return None
    return 1000 * (after - before) / int(processed.group(1))


def repayment_floor(binary: Path, seconds: int, run_id: str, workdir: Path, protocol: str) -> dict:
    """The SQL of one repayment alone, with no service in the way: `benches/repayment_floor.sql` (and
    `benches/repayment_floor_fewer.sql`, the same rows in fewer round trips) run by pgbench (`-c 4 -j 2`, the
    TPC-B run's clients and duration, query protocol `protocol`) on scratch databases that the service's own
    `demo --loans 1000` made (its migrations, products, loans, chain heads), each script on a fresh copy. What
    this does per second is the ceiling a repayment over HTTP can reach on this PostgreSQL right now. Returns
    the first script's figures, the second's under `fewer`."""
    db = f"coopfund_floor_{run_id}"
    psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {db}")
    psql(PG_ADMIN_URL, f"CREATE DATABASE {db}")
    url = f"postgres://postgres@127.0.0.1:5432/{db}"
    copy = f"{db}_run"
    try:
        env = dict(os.environ)
        env.update({"COOPFUND__DATABASE__URL": url, "COOPFUND__LOG__LEVEL": "warn",
                    "COOPFUND__BACKUP__DIR": str(workdir / "floor-backups"),
                    "COOPFUND_ADMIN_PASSWORD": PASSWORD})
        env.pop("RUST_LOG", None)
        subprocess.run([str(binary), "demo", "--loans", str(FLOOR_LOANS)], env=env, cwd=REPO, check=True,
                       capture_output=True)
        # Planner statistics, as a fund that has run a while has them (a fresh copy has none).
        psql(url, "ANALYZE")
        loan_min, loan_max = psql(url, "SELECT MIN(id) || ' ' || MAX(id) FROM loans").split()
        user_id = psql(url, "SELECT MIN(id) FROM users")
        common = ["-h", "127.0.0.1", "-U", "postgres"]
        results = []
        for script in (FLOOR_SQL, FLOOR_FEWER_SQL):
            psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {copy} WITH (FORCE)")
            psql(PG_ADMIN_URL, f"CREATE DATABASE {copy} TEMPLATE {db}")
            cpu_before = postgres_cpu_seconds()
            out = subprocess.run(
                ["pgbench", "-n", "-M", protocol, "-f", str(script), "-c", "4", "-j", "2", "-T", str(seconds),
                 "-D", f"loan_min={loan_min}", "-D", f"loan_max={loan_max}", "-D", f"user_id={user_id}",
                 *common, copy],
                check=True, capture_output=True, text=True).stdout
            cpu_after = postgres_cpu_seconds()
            tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
            latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
            failed = re.search(r"number of failed transactions: (\d+)", out)
            results.append({"tps": tps, "latency_avg_ms": latency,
                            "failed": int(failed.group(1)) if failed else 0, "protocol": protocol,
                            "postgres_cpu_ms_per_tx": postgres_cpu_ms_per_tx(cpu_before, cpu_after, out)})
        return {**results[0], "fewer": results[1]}
    finally:
        psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {copy} WITH (FORCE)")
        psql(PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

def repayment_floor_sqlite(backend: Backend, seconds: int, workdir: Path) -> list[dict]:
    """The SQL of a repayment alone on a copy of the SQLite fund just loaded (it holds the repayment load's
    rows, which the floor copies): one commit a repayment, then four (the group commit's batches)."""
    import repayment_floor_sqlite
    copy = workdir / "floor-sqlite.db"
    results = []
    for batch in (1, 4):
        for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            leftover.unlink(missing_ok=True)
        # SQLite's online backup: a consistent copy while `serve` has the fund open.
        with sqlite3.connect(backend.path) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        results.append(repayment_floor_sqlite.run(str(copy), min(seconds, 10), batch))
    return results


def build_history(service: Service, loan_id: int, target: int, run: str, value_date: str,
                  backend: Backend) -> dict:
    """Sequential repayments on `loan_id` until it has `target` transactions; the wall time of the posts."""
    have = int(backend.scalar(f"SELECT COUNT(*) FROM loan_transactions WHERE loan_id = {loan_id}"))
    posts = max(0, target - have)
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=60)
    started = time.monotonic()
    last_tenth_started = started
    for i in range(posts):
        if i == posts - posts // 10:
            last_tenth_started = time.monotonic()
        status, body = service.request(
            "POST", f"/api/v1/loans/{loan_id}/repayments",
            {"amount_vnd": 1000, "value_date": value_date, "reference": f"HISTORY {run}-{loan_id}-{i}"},
            key=f"history-{run}-{loan_id}-{i}", conn=conn)
        if status != 201:
            raise RuntimeError(f"repayment {i} on loan {loan_id}: {status} {body}")
    wall = time.monotonic() - started
    last_tenth = time.monotonic() - last_tenth_started
    conn.close()
    return {"loan_id": loan_id, "transactions": have + posts, "posts": posts, "wall_s": wall,
            "last_tenth_ms_per_post": 1000 * last_tenth / max(1, posts // 10)}


# The phases of a run, in order (`--phases`); `verify` is extra, not in the default.
PHASES = ("load", "repay", "paced", "history", "read", "cob")

PG_LOG = Path("/var/log/postgresql/postgresql-15-main.log")


def count_statements(kind: str, args: argparse.Namespace, binary: Path, run_id: str, workdir: Path) -> dict:
    """Statements per repayment: `posts` sequential repayments over HTTP (authentication included), counted
    on PostgreSQL by the server's own log (`log_statement = all` on the throwaway database: any binary) and on
    SQLite by the service's statement log (`sqlx::query` at debug; a binary before that log existed counts 0)."""
    backend = Backend(kind, workdir, run_id)
    service = Service(binary, backend, workdir, "warn,sqlx::query=debug")
    try:
        service.cli("demo", "--loans", "200")
        service.cli("user", "add", "--username", USERNAME, "--role", "accountant", "--full-name",
                    "Load benchmark", stdin=PASSWORD + "\n")
        if kind == "postgres":
            psql(PG_ADMIN_URL, f"ALTER DATABASE {backend.db} SET log_statement = 'all'")
        service.start()
        service.login()
        _, dates = service.request("GET", "/api/v1/business-date")
        loan_ids = backend.column("SELECT id FROM loans WHERE status = 'active' AND "
                                  "in_term_principal_vnd + overdue_principal_vnd >= 10000000 ORDER BY id LIMIT 5")
        conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=60)
        # One repayment first, so the pool's connections are open and nothing one-off is counted.
        service.request("POST", f"/api/v1/loans/{loan_ids[0]}/repayments",
                        {"amount_vnd": 1000, "value_date": dates["business_date"], "reference": "WARM"},
                        key=f"warm-{run_id}", conn=conn)
        time.sleep(0.5)
        pg_offset = PG_LOG.stat().st_size if kind == "postgres" else 0
        serve_offset = service.log_path.stat().st_size
        for i in range(args.statements):
            status, body = service.request(
                "POST", f"/api/v1/loans/{loan_ids[i % len(loan_ids)]}/repayments",
                {"amount_vnd": 1000, "value_date": dates["business_date"], "reference": f"COUNT {i}"},
                key=f"count-{run_id}-{i}", conn=conn)
            if status != 201:
                raise RuntimeError(f"repayment {i}: {status} {body}")
        time.sleep(1)
        if kind == "postgres":
            with PG_LOG.open("rb") as f:
                f.seek(pg_offset)
                text = f.read().decode("utf-8", "replace")
            pattern = re.compile(rf"@{backend.db} LOG:  (?:statement|execute [^:]*): (\S+)")
        else:
            with service.log_path.open("rb") as f:
                f.seek(serve_offset)
                text = f.read().decode("utf-8", "replace")
            pattern = re.compile(r"sqlx::query: summary=\"?(\w+)")
        kinds: dict[str, int] = {}
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # the service's log is coloured
        for match in pattern.finditer(text):
            verb = match.group(1).upper().strip('"')
            kinds[verb] = kinds.get(verb, 0) + 1
        total = sum(kinds.values())
        return {"backend": kind, "repayments": args.statements, "statements": total,
                "per_repayment": total / args.statements,
                "by_verb": {k: v / args.statements for k, v in sorted(kinds.items())}}
    finally:
        service.stop()
        backend.drop()


def run_backend(kind: str, args: argparse.Namespace, binary: Path, run_id: str, workdir: Path) -> dict:
    result: dict = {"backend": kind, "loans": args.loans, "phases": sorted(args.phases)}
    backend = Backend(kind, workdir, run_id)
    service = Service(binary, backend, workdir, args.log_level)
    try:
        # The fund is loaded whatever the phases: every other phase runs on it.
        log(f"{kind}: demo --loans {args.loans}")
        result["demo_s"], _ = service.cli("demo", "--loans", str(args.loans))
        if kind == "postgres" and args.analyze:
            # Planner statistics, as a fund that has run a while has them from autovacuum: on a fund loaded
            # seconds ago the service's prepared statements would keep plans made without any (the siblings'
            # query then reads every active loan's entry in `idx_loans_status` on each repayment).
            started = time.monotonic()
            backend.scalar("ANALYZE")
            result["analyze_s"] = time.monotonic() - started
            log(f"{kind}: ANALYZE in {result['analyze_s']:.1f} s")
        if "verify" in args.phases:
            log(f"{kind}: ledger verify")
            result["verify_s"], _ = service.cli("ledger", "verify")
        service.cli("user", "add", "--username", USERNAME, "--role", "accountant", "--full-name",
                    "Load benchmark", stdin=PASSWORD + "\n")
        service.start()
        service.login()
        _, dates = service.request("GET", "/api/v1/business-date")
        today = dates["business_date"]
        result["business_date"] = today
        result["open_loans"] = int(backend.scalar("SELECT COUNT(*) FROM loans WHERE status = 'active'"))
        result["rss_after_load_mb"] = service.status_kb("VmHWM") / 1024
        # Loans that owe at least 10 million đồng: 1,000 đồng repayments never reach a payoff (a 422).
        open_ids = backend.column("SELECT id FROM loans WHERE status = 'active' AND "
                                  "in_term_principal_vnd + overdue_principal_vnd >= 10000000 ORDER BY id")
        history_ids = [int(open_ids[0]), int(open_ids[1])]
        ids_file = workdir / f"repay-ids-{kind}.txt"
        ids_file.write_text("\n".join(open_ids[2:]) + "\n")

        if kind == "postgres" and args.phases & {"repay", "paced", "history", "read", "cob"}:
            log("postgres: pgbench")
            result["pgbench"] = pgbench(args.seconds, run_id)
            if args.floor:
                log("postgres: the repayment's SQL alone (benches/repayment_floor.sql, repayment_floor_fewer.sql)")
                result["floor"] = repayment_floor(binary, args.seconds, run_id, workdir, args.floor_protocol)

        if "repay" in args.phases:
            repay_phase(kind, args, service, ids_file, today, run_id, result)
            if kind == "sqlite" and args.floor:
                log("sqlite: the repayment's SQL alone (benches/repayment_floor_sqlite.py)")
                result["floor_sqlite"] = repayment_floor_sqlite(backend, args.seconds, workdir)
        if "paced" in args.phases and "repay" in result:
            paced_phase(kind, args, service, ids_file, today, run_id, result)
        if args.phases & {"history", "read"}:
            history_phase(kind, args, service, backend, history_ids, today, run_id, workdir, result)
        if "cob" in args.phases:
            cob_phase(kind, args, service, backend, today, result)
        result["rss_peak_mb"] = service.status_kb("VmHWM") / 1024
    except Exception:
        # The temporary folder goes with the run: show what the service said before it does.
        if service.log_path.exists():
            log(f"{kind}: the end of serve's log:\n" + "\n".join(service.log_path.read_text().splitlines()[-20:]))
        raise
    finally:
        service.stop()
        backend.drop()
    return result


def postgres_cpu_seconds(database: str | None = None) -> float | None:
    """CPU seconds used so far by this machine's PostgreSQL, read from /proc; None when no such process is
    visible (a server elsewhere). With `database`: the backends connected to it now (the service's pool), else
    every `postgres` process and the backends that have exited (their time is added to the postmaster's
    children's time when it reaps them), which counts any other client of the server too."""
    if database is not None:
        pids = psql(PG_ADMIN_URL, "SELECT pid FROM pg_stat_activity WHERE datname = "
                                  f"'{database}' AND backend_type = 'client backend'").split()
    else:
        pids = [pid for pid in os.listdir("/proc") if pid.isdigit()]
    total, seen = 0, False
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            parent = Path(f"/proc/{fields[1]}/comm").read_text().strip() if fields[1] != "1" else ""
            if database is None and parent != "postgres":
                # The postmaster: its reaped children's time.
                total += int(fields[13]) + int(fields[14])
            seen = True
        except (OSError, IndexError):
            continue
    return total / os.sysconf("SC_CLK_TCK") if seen else None


def repay_phase(kind: str, args: argparse.Namespace, service: Service, ids_file: Path, today: str,
                run_id: str, result: dict) -> None:
    """The repayment load at full speed; `serve`'s CPU over it (and PostgreSQL's, on that backend) and its
    peak RSS after it."""
    log(f"{kind}: repayment load, {args.connections} connections, {args.seconds} s")
    cpu_before = service.cpu_seconds()
    # The service's own backends (its pool's connections; one opened during the load counts whole).
    database = f"coopfund_load_{run_id}"
    pg_before = postgres_cpu_seconds(database) if kind == "postgres" else None
    result["repay"] = wrk(service, "repay", ids_file, today, f"{run_id}a", args.seconds, args.connections)
    result["repay"]["serve_cpu_s"] = service.cpu_seconds() - cpu_before
    pg_after = postgres_cpu_seconds(database) if pg_before is not None else None
    if pg_before is not None and pg_after is not None:
        result["repay"]["postgres_cpu_s"] = pg_after - pg_before
    result["rss_after_repay_mb"] = service.status_kb("VmHWM") / 1024


def paced_phase(kind: str, args: argparse.Namespace, service: Service, ids_file: Path, today: str,
                run_id: str, result: dict) -> None:
    """The same load paced towards 80% of the throughput the repayment load measured."""
    rate = 0.8 * result["repay"]["ok_per_s"]
    mean_s = result["repay"]["mean_us"] / 1e6
    delay_ms = max(0, round(1000 * (args.connections / rate - mean_s))) if rate > 0 else 0
    log(f"{kind}: paced repayment load, {delay_ms} ms between requests on each connection")
    paced = wrk(service, "repay", ids_file, today, f"{run_id}b", args.seconds, args.connections, delay_ms)
    paced["delay_ms"] = delay_ms
    result["repay_paced"] = paced


def history_phase(kind: str, args: argparse.Namespace, service: Service, backend: Backend,
                  history_ids: list[int], today: str, run_id: str, workdir: Path, result: dict) -> None:
    """Two loans brought to `--history` transactions (phase `history`), each then read under load (`read`)."""
    result["history"] = []
    result["read"] = []
    for loan_id, target in zip(history_ids, args.history):
        if "history" in args.phases:
            log(f"{kind}: loan {loan_id} to {target} transactions")
            built = build_history(service, loan_id, target, run_id, today, backend)
            result["history"].append(built)
        if "read" in args.phases:
            read_file = workdir / f"read-{kind}-{loan_id}.txt"
            read_file.write_text(f"{loan_id}\n")
            log(f"{kind}: read load on loan {loan_id}")
            read = wrk(service, "read", read_file, today, run_id, args.read_seconds, args.connections)
            read["transactions"] = int(backend.scalar(
                f"SELECT COUNT(*) FROM loan_transactions WHERE loan_id = {loan_id}"))
            result["read"].append(read)


def close_of_business(service: Service, backend: Backend, through: str) -> dict:
    """`POST /api/v1/cob/run` through `through` in `serve`: the days closed, the open loans when it started, the
    wall time, open loan-days per second and `serve`'s CPU."""
    open_now = int(backend.scalar("SELECT COUNT(*) FROM loans WHERE status = 'active'"))
    cpu_before = service.cpu_seconds()
    started = time.monotonic()
    status, outcome = service.request("POST", "/api/v1/cob/run", {"through": through}, timeout=3600)
    wall = time.monotonic() - started
    if status != 200 or not outcome.get("ran"):
        raise RuntimeError(f"cob: {status} {outcome}")
    days = len(outcome["runs"])
    return {"days": days, "open_loans": open_now, "wall_s": wall, "loan_days_per_s": open_now * days / wall,
            "serve_cpu_s": service.cpu_seconds() - cpu_before}


def cob_phase(kind: str, args: argparse.Namespace, service: Service, backend: Backend, today: str,
              result: dict) -> None:
    """The close of business over `--cob-days` days (`POST /api/v1/cob/run`, in `serve`), with `serve`'s
    resident memory before it and its peak during it (the peak is reset first, so it is the COB's own)."""
    through = (dt.date.fromisoformat(today) + dt.timedelta(days=args.cob_days - 1)).isoformat()
    log(f"{kind}: close of business through {through}")
    result["rss_before_cob_mb"] = service.status_kb("VmRSS") / 1024
    result["rss_cob_peak_reset"] = service.reset_peak_rss()
    result["cob"] = close_of_business(service, backend, through)
    result["rss_cob_peak_mb"] = service.status_kb("VmHWM") / 1024


def ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def report(results: list[dict], git: str) -> str:
    pg = next((r for r in results if r["backend"] == "postgres"), None)
    tps = pg["pgbench"]["tps"] if pg and "pgbench" in pg else None
    lines = [f"load run at {git}, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
             f"load average at the end {os.getloadavg()[0]:.1f}"]
    def pg_cpu(figures: dict) -> str:
        cpu = figures.get("postgres_cpu_ms_per_tx")
        return f", PostgreSQL CPU {cpu:.2f} ms a transaction" if cpu is not None else ""
    if tps:
        lines.append(f"pgbench -c 4 -j 2 -s 10: {tps:.0f} tps (latency avg {pg['pgbench']['latency_avg_ms']:.2f} ms"
                     f"{pg_cpu(pg['pgbench'])})")
    if tps and "floor" in pg:
        for name, floor in (("repayment_floor.sql", pg["floor"]), ("repayment_floor_fewer.sql", pg["floor"].get("fewer"))):
            if floor is None:
                continue
            lines.append(f"repayment SQL alone: {floor['tps']:.0f} tps = {floor['tps'] / tps:.2f} × pgbench "
                         f"(benches/{name}, -c 4 -j 2 -M {floor.get('protocol', 'simple')}, latency avg "
                         f"{floor['latency_avg_ms']:.2f} ms, {floor['failed']} failed{pg_cpu(floor)})")
    sqlite = next((r for r in results if r["backend"] == "sqlite"), None)
    for floor in (sqlite or {}).get("floor_sqlite", []):
        lines.append(f"repayment SQL alone on SQLite (benches/repayment_floor_sqlite.py, one connection, "
                     f"{floor['batch']} a commit): {floor['per_s']:.0f}/s, {floor['cpu_ms']:.2f} ms of CPU a repayment "
                     f"(SQLite's and Python's)")
    lines.append("| what | " + " | ".join(r["backend"] for r in results) + " |")
    lines.append("|---|" + "---|" * len(results))

    def row(name: str, cell) -> None:
        cells = []
        for r in results:
            try:
                text = cell(r)
            except (KeyError, IndexError, TypeError, ZeroDivisionError):
                text = "—"
            if r["backend"] == "postgres" and tps and isinstance(text, tuple):
                text = f"{text[0]} = {text[1] / tps:.2f} × pgbench"
            elif isinstance(text, tuple):
                text = text[0]
            cells.append(text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    row("bulk demo load", lambda r: f"{r['demo_s']:.1f} s ({r['loans']} loans, {r['open_loans']} open)")
    row("ledger verify of the loaded fund", lambda r: f"{r['verify_s']:.1f} s, passes")
    row("repayments/s (4 conn.)", lambda r: (f"{r['repay']['ok_per_s']:.0f}/s", r["repay"]["ok_per_s"]))
    row("repayment p50 / p99", lambda r: f"{ms(r['repay']['p50_us'])} / {ms(r['repay']['p99_us'])} ms")
    row("failed requests", lambda r: f"{r['repay']['failed']} of {r['repay']['requests']}")
    row("serve CPU per repayment", lambda r: f"{1000 * r['repay']['serve_cpu_s'] / max(1, r['repay']['requests']):.2f} ms")
    row("PostgreSQL CPU per repayment",
        lambda r: f"{1000 * r['repay']['postgres_cpu_s'] / max(1, r['repay']['requests']):.2f} ms")
    row("paced (≈80%) repayments/s", lambda r: (f"{r['repay_paced']['ok_per_s']:.0f}/s", r["repay_paced"]["ok_per_s"]))
    row("paced p50 / p99", lambda r: f"{ms(r['repay_paced']['p50_us'])} / {ms(r['repay_paced']['p99_us'])} ms")
    for i in range(2):
        row(f"posting onto loan #{i + 1}",
            lambda r, i=i: f"{r['history'][i]['posts']} posts to {r['history'][i]['transactions']} tx in "
                           f"{r['history'][i]['wall_s']:.1f} s (last tenth {r['history'][i]['last_tenth_ms_per_post']:.1f} ms/post)")
        row(f"GET /loans/{{id}} at loan #{i + 1}",
            lambda r, i=i: f"{r['read'][i]['transactions']} tx: {ms(r['read'][i]['p50_us'])} / "
                           f"{ms(r['read'][i]['p99_us'])} ms, {r['read'][i]['ok_per_s']:.0f}/s")
    row("close of business", lambda r: f"{r['cob']['days']} days × {r['cob']['open_loans']} loans in "
                                       f"{r['cob']['wall_s']:.1f} s = {r['cob']['loan_days_per_s']:.0f} loan-days/s "
                                       f"(serve CPU {r['cob']['serve_cpu_s']:.1f} s)")
    row("serve peak RSS, started on the fund", lambda r: f"{r['rss_after_load_mb']:.0f} MB")
    row("serve peak RSS after the repayment load", lambda r: f"{r['rss_after_repay_mb']:.0f} MB")
    row("serve RSS before the COB / its peak in the COB",
        lambda r: f"{r['rss_before_cob_mb']:.0f} / {r['rss_cob_peak_mb']:.0f} MB"
                  + ("" if r["rss_cob_peak_reset"] else " (peak not reset: the run's)"))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=10_000, help="bulk fund size (10000; 100000 for the large fund)")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--seconds", type=int, default=15, help="repayment load and pgbench duration")
    parser.add_argument("--read-seconds", type=int, default=10, help="read load duration per loan")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--history", default="200,2000", help="transactions of the two read-load loans")
    parser.add_argument("--cob-days", type=int, default=3)
    parser.add_argument("--no-paced", dest="paced", action="store_false", help="skip the 80%% paced load")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help="comma-separated, of " + ",".join(PHASES + ("verify",)) + " (default: all but verify; "
                             "the fund is always loaded; verify runs `ledger verify` on it, timed)")
    parser.add_argument("--floor-protocol", choices=("simple", "prepared"), default="simple",
                        help="pgbench's query protocol for the repayment's SQL alone (prepared: as the service, "
                             "whose driver keeps its statements prepared)")
    parser.add_argument("--no-analyze", dest="analyze", action="store_false",
                        help="PostgreSQL: skip the ANALYZE of the loaded fund (the load script's behaviour before "
                             "issue 14's pgtrips)")
    parser.add_argument("--no-floor", dest="floor", action="store_false",
                        help="skip the repayment's SQL alone (benches/repayment_floor.sql after pgbench; "
                             "benches/repayment_floor_sqlite.py after the SQLite repayment load)")
    parser.add_argument("--log-level", default="warn", help="serve's log filter")
    parser.add_argument("--binary", type=Path, default=REPO / "target" / "release-lines" / "coopfund")
    parser.add_argument("--no-build", dest="build", action="store_false",
                        help="use --binary as it is (default: cargo build --profile release-lines first)")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--statements", type=int, default=0, metavar="N",
                        help="only count the SQL statements of N sequential repayments on each backend")
    args = parser.parse_args()
    args.history = [int(x) for x in args.history.split(",")]
    args.phases = {p.strip() for p in args.phases.split(",") if p.strip()}
    if "all" in args.phases:
        args.phases = (args.phases - {"all"}) | set(PHASES)
    unknown = args.phases - set(PHASES) - {"verify"}
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if not args.paced:
        args.phases.discard("paced")
    for tool in ("wrk",) + (("pgbench", "psql") if "postgres" in args.backends else ()):
        if not shutil.which(tool):
            print(f"{tool} is needed (apt-get install -y {tool if tool == 'wrk' else 'postgresql-client'})",
                  file=sys.stderr)
            return 2
    if args.build:
        log("cargo build --profile release-lines --bin coopfund")
        subprocess.run(["cargo", "build", "--profile", "release-lines", "-p", "coopfund", "--bin", "coopfund"],
                       cwd=REPO, check=True)
    git = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip()
    run_id = f"{os.getpid()}_{int(time.time())}"
    results = []
    with tempfile.TemporaryDirectory(prefix="coopfund-load-") as tmp:
        if args.statements:
            for kind in args.backends.split(","):
                counted = count_statements(kind.strip(), args, args.binary.resolve(), run_id, Path(tmp))
                print(json.dumps(counted))
            return 0
        for kind in args.backends.split(","):
            results.append(run_backend(kind.strip(), args, args.binary.resolve(), run_id, Path(tmp)))
    text = report(results, git)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"git": git, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
