#!/usr/bin/env python3
"""The SQL of a repayment alone on SQLite: the ceiling of the embedded database, without the service.

    benches/repayment_floor_sqlite.py FUND.db [--seconds 10] [--batch 4] [--synchronous FULL]

FUND.db: a copy of a fund on which the service has already posted repayments (for example the
`load.db` that `benches/load.py` writes, kept after a repayment load); the file is changed, use a copy.

Each repayment sends what `coopfund serve` sends for `POST /api/v1/loans/{id}/repayments` on SQLite (the
texts of `load.py --statements`, issue 14), on one connection, in Python's `sqlite3` (SQLite's C library,
statements prepared once and cached, no worker thread in between):

  the idempotency key looked up; the loan's lock (`UPDATE loans SET version = version … RETURNING *`), its
  three chain heads, the next row ids, the calendar and the fund's state; the loan transaction inserted; the
  latest snapshot, the transactions after it, the siblings, the loan's book read; the journal entry and its
  two lines inserted (the `loan_books` trigger runs), the loan's balances updated, the audit record
  inserted, the three chain heads moved; the cooperative and its notification settings read; the receipt
  inserted into the outbox, the idempotency key stored.

The rows are copies of the fund's last repayment (its transaction, entry, lines, audit record, receipt and
key) on a loan drawn at random among the active ones, with fresh ids, keys and chain sequence numbers, so
every unique index and the trigger do their work. `--batch N` commits every N repayments (the service's
group commit: one transaction, one WAL sync for the batch). WAL, `synchronous` FULL (sqlx's default, as
the service runs), foreign keys on.

Prints repayments/s and the CPU of this process per repayment (SQLite's work plus Python's calls: an upper
bound of SQLite's own). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time


def run(db: str, seconds: float, batch: int = 1, synchronous: str = "FULL", cache_mb: int = 0) -> dict:
    """Repayments on the fund `db` for `seconds`, `batch` a commit: their count, rate and this process's CPU."""
    conn = sqlite3.connect(db, isolation_level=None, cached_statements=256)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    if cache_mb:
        conn.execute(f"PRAGMA cache_size = -{cache_mb * 1024}")

    def template(table: str, where: str) -> dict:
        cur = conn.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
        if row is None:
            raise SystemExit(f"no {table} row where {where}: post repayments through the service first")
        return dict(zip([d[0] for d in cur.description], row))

    tx = template("loan_transactions", "kind = 'repayment'")
    entry = template("journal_entries", f"transaction_id = {tx['id']}")
    cur = conn.execute("SELECT * FROM journal_lines WHERE entry_id = ?", (entry["id"],))
    lines = [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]
    audit = template("audit_records", "action = 'loan.repayment'")
    receipt = template("outbox_messages", "kind = 'payment_receipt'")
    key = template("idempotency_keys", "1 = 1")
    loans = {r[0]: r[1] for r in conn.execute("SELECT id, cooperative_id FROM loans WHERE status = 'active'")}
    loan_ids = list(loans)
    loan_cols = [d[0] for d in conn.execute("SELECT * FROM loans LIMIT 0").description]
    business_date = conn.execute("SELECT business_date FROM fund_state WHERE id = 1").fetchone()[0]

    def insert(table: str, row: dict) -> str:
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        return f'INSERT INTO "{table}" ({cols}) VALUES ({marks})'

    tx_cols = [c for c in tx]
    entry_cols = [c for c in entry]
    audit_cols = [c for c in audit if c != "id"]
    receipt_cols = [c for c in receipt if c != "id"]
    key_cols = [c for c in key if c != "id"]
    sql_tx = insert("loan_transactions", {c: None for c in tx_cols})
    sql_entry = insert("journal_entries", {c: None for c in entry_cols})
    sql_lines = ('INSERT INTO "journal_lines" ("entry_id", "account_code", "debit_vnd", "credit_vnd", "loan_id") '
                 "VALUES " + ", ".join(["(?, ?, ?, ?, ?)"] * len(lines)))
    sql_audit = insert("audit_records", {c: None for c in audit_cols})
    sql_receipt = insert("outbox_messages", {c: None for c in receipt_cols}) + ' ON CONFLICT ("dedupe_key") DO NOTHING'
    sql_key = insert("idempotency_keys", {c: None for c in key_cols})
    sql_loan = ('UPDATE "loans" SET "status" = ?, "first_disbursed_on" = ?, "closed_on" = ?, "disbursed_vnd" = ?, '
                '"in_term_principal_vnd" = ?, "overdue_principal_vnd" = ?, "advance_vnd" = ?, "dpd" = ?, '
                '"debt_group" = ?, "restructure_count" = ?, "balances_as_of" = ?, "balances_cached_by_command" = ?, '
                '"version" = ?, "updated_at" = ? WHERE "loans"."id" = ?')
    sql_heads = ("UPDATE chain_heads SET seq = CASE chain WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? END, "
                 "hash = CASE chain WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? END, updated_at = CURRENT_TIMESTAMP "
                 "WHERE (chain = ? AND seq = ? AND hash = ?) OR (chain = ? AND seq = ? AND hash = ?) "
                 "OR (chain = ? AND seq = ? AND hash = ?)")
    sql_next_ids = ("SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'loan_transactions'), 0), "
                    "coalesce((SELECT max(id) FROM loan_transactions), 0)) + 1, "
                    "max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'journal_entries'), 0), "
                    "coalesce((SELECT max(id) FROM journal_entries), 0)) + 1")
    sql_calendar = ("SELECT 0 AS part, id, holiday_on AS day, '' AS days_off FROM calendar_holidays WHERE removed_at IS NULL "
                    "UNION ALL SELECT 1 AS part, id, effective_from AS day, days_off FROM calendar_weekly_rules "
                    "UNION ALL SELECT 2 AS part, CAST(id AS BIGINT) AS id, business_date AS day, '' AS days_off FROM fund_state WHERE id = 1")
    sql_snapshot = ("SELECT loan_id, as_of, covered_sequence, format_version, contract_fingerprint, state, taken_at "
                    "FROM loan_snapshots WHERE loan_id = ? AND as_of <= ? ORDER BY as_of DESC LIMIT 1")
    sql_after = ("WITH s AS (SELECT covered_sequence, as_of FROM loan_snapshots WHERE loan_id = ? AND as_of <= ? "
                 "ORDER BY as_of DESC LIMIT 1) SELECT t.* FROM loan_transactions t WHERE t.loan_id = ? AND "
                 "(NOT EXISTS (SELECT 1 FROM s) OR t.id > (SELECT covered_sequence FROM s) OR t.value_date > (SELECT as_of FROM s)) "
                 "ORDER BY t.id")
    sql_siblings = "SELECT id, debt_group FROM loans WHERE cooperative_id = ? AND id <> ? AND status = ?"
    sql_books = "SELECT loan_id, account_code, debit_vnd, credit_vnd FROM loan_books WHERE loan_id = ?"
    sql_cooperative = ('SELECT c.*, s.*, co.id, co.full_name, co.email, co.disabled FROM cooperatives AS c '
                       'LEFT JOIN cooperative_notification_settings AS s ON s.cooperative_id = c.id '
                       'LEFT JOIN users AS co ON co.id = c.officer_id WHERE c.id = ?')

    # The columns the service's update of the loan sets, in `sql_loan`'s order (then the version and the time).
    balance_cols = ("status", "first_disbursed_on", "closed_on", "disbursed_vnd", "in_term_principal_vnd",
                    "overdue_principal_vnd", "advance_vnd", "dpd", "debt_group", "restructure_count",
                    "balances_as_of", "balances_cached_by_command")
    run = f"{time.time_ns()}"
    rng = random.Random(14)
    done = 0
    in_batch = 0
    started = time.monotonic()
    cpu_started = time.process_time()
    deadline = started + seconds
    while time.monotonic() < deadline:
        if in_batch == 0:
            conn.execute("BEGIN IMMEDIATE")
        loan_id = rng.choice(loan_ids)
        n = f"{run}-{done}"
        conn.execute("SELECT * FROM idempotency_keys WHERE user_id = ? AND key = ?", (key["user_id"], n)).fetchall()
        loan = conn.execute("UPDATE loans SET version = version WHERE id = ? RETURNING *", (loan_id,)).fetchall()[0]
        # A part of the chains as the service spreads loans over them (which one does not change the cost).
        part = loan_id % 15 + 1
        chains = (f"loan_transactions/{part}", f"journal/{part}", f"audit/{part}")
        heads = conn.execute("UPDATE chain_heads SET seq = seq WHERE chain IN (?, ?, ?) RETURNING chain, seq, hash",
                             chains).fetchall()
        tx_id, entry_id = conn.execute(sql_next_ids).fetchone()
        conn.execute(sql_calendar).fetchall()
        seq = {chain: s for chain, s, _ in heads}
        hashes = {chain: h for chain, _, h in heads}
        row = dict(tx, id=tx_id, loan_id=loan_id, reference=f"FLOOR {n}", chain_part=part,
                   chain_seq=seq[chains[0]] + 1, chain_prev=hashes[chains[0]], chain_hash=f"h{n}t")
        conn.execute(sql_tx, [row[c] for c in tx_cols])
        conn.execute(sql_snapshot, (loan_id, business_date)).fetchall()
        conn.execute(sql_after, (loan_id, business_date, loan_id)).fetchall()
        conn.execute(sql_siblings, (loans[loan_id], loan_id, "active")).fetchall()
        conn.execute(sql_books, (loan_id,)).fetchall()
        row = dict(entry, id=entry_id, loan_id=loan_id, transaction_id=tx_id, business_key=f"loan:{loan_id}:tx:{tx_id}",
                   chain_part=part, chain_seq=seq[chains[1]] + 1, chain_prev=hashes[chains[1]], chain_hash=f"h{n}e")
        conn.execute(sql_entry, [row[c] for c in entry_cols])
        conn.execute(sql_lines, [v for line in lines for v in
                                 (entry_id, line["account_code"], line["debit_vnd"], line["credit_vnd"], loan_id)])
        columns = dict(zip(loan_cols, loan))
        conn.execute(sql_loan, [columns[c] for c in balance_cols] + [columns["version"] + 1, columns["updated_at"], loan_id])
        conn.execute("SELECT changes()").fetchone()
        row = dict(audit, entity_id=str(loan_id), chain_part=part, chain_seq=seq[chains[2]] + 1,
                   chain_prev=hashes[chains[2]], chain_hash=f"h{n}a")
        conn.execute(sql_audit, [row[c] for c in audit_cols])
        moved = [chains[0], seq[chains[0]] + 1, chains[1], seq[chains[1]] + 1, chains[2], seq[chains[2]] + 1,
                 chains[0], f"h{n}t", chains[1], f"h{n}e", chains[2], f"h{n}a"]
        moved += [v for chain in chains for v in (chain, seq[chain], hashes[chain])]
        conn.execute(sql_heads, moved)
        conn.execute("SELECT changes()").fetchone()
        conn.execute(sql_cooperative, (loans[loan_id],)).fetchall()
        row = dict(receipt, dedupe_key=f"payment_receipt:{loan_id}:{tx_id}", message_id=f"<{n}@floor>",
                   related_id=str(tx_id), cooperative_id=loans[loan_id])
        conn.execute(sql_receipt, [row[c] for c in receipt_cols])
        row = dict(key, key=n, path=f"loan.repay:{loan_id}")
        conn.execute(sql_key, [row[c] for c in key_cols])
        done += 1
        in_batch += 1
        if in_batch == batch:
            conn.execute("COMMIT")
            in_batch = 0
    if in_batch:
        conn.execute("COMMIT")
    wall = time.monotonic() - started
    cpu = time.process_time() - cpu_started
    conn.close()
    return {"batch": batch, "synchronous": synchronous, "cache_mb": cache_mb or 2, "repayments": done,
            "wall_s": wall, "per_s": done / wall, "cpu_ms": cpu / done * 1000}


def describe(figures: dict) -> str:
    return (f"batch {figures['batch']}, synchronous {figures['synchronous']}, cache {figures['cache_mb']} MB: "
            f"{figures['repayments']} repayments in {figures['wall_s']:.1f} s = {figures['per_s']:.0f}/s, "
            f"this process's CPU {figures['cpu_ms']:.3f} ms a repayment")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("db")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=1, help="repayments per commit")
    parser.add_argument("--synchronous", default="FULL")
    parser.add_argument("--cache-mb", type=int, default=0, help="the connection's page cache (0: SQLite's 2 MB)")
    args = parser.parse_args()
    print(describe(run(args.db, args.seconds, args.batch, args.synchronous, args.cache_mb)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
