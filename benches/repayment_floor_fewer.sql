-- The SQL of one repayment alone in fewer round trips (issue 14, pgtrips): `repayment_floor.sql`'s rows,
-- written to the same tables (same indexes, triggers, chain heads in parts), in 6 round trips instead of 20.
--
--   pgbench -n -f benches/repayment_floor_fewer.sql -c 4 -j 2 -T 15 \
--           -D loan_min=1 -D loan_max=1000 -D user_id=1 DB
--
-- on a scratch database `coopfund demo --loans 1000` made (as for repayment_floor.sql). The round trips:
--   1. the bearer token and its account (every authenticated request, outside the transaction);
--   2. BEGIN;
--   3. the idempotency key (a replay?) and the loan locked FOR UPDATE, one statement;
--   4. everything read after the lock, one statement returning JSON aggregates: the business date and the
--      calendar, the part's heads FOR UPDATE, the latest snapshot, the transactions after it, the siblings'
--      groups, the posted book, the receipt's audience, and the ids the rows below take (nextval: the
--      journal entry's hash covers its transaction's id, so every id is known before the hashes are made);
--   5. every write in one statement of data-modifying CTEs: the transaction, the entry, its lines, the loan's
--      cached balances, the audit record, the three heads moved (each from where it was read), the outbox
--      message, the idempotency record; it returns how many heads moved (3, or the caller rolls back);
--   6. COMMIT.
-- The reads after the lock are in a statement of their own (not in the lock's): in READ COMMITTED a
-- statement reads the snapshot taken when it started, so a read in the lock's statement could miss what the
-- previous holder of the lock committed while this one waited for it. The new transaction is not read back:
-- the service folds it in memory on top of what step 4 returned.
-- Values are made up as in repayment_floor.sql (random hashes, two journal lines).

\set loan_id random(:loan_min, :loan_max)
\set key random(1, 2000000000)
\set part :loan_id % 16

-- 1. The bearer token and its account, one join.
SELECT u.id, u.role, u.disabled FROM api_tokens t JOIN users u ON u.id = t.user_id
 WHERE t.token_hash = md5(:key::text) AND t.revoked_at IS NULL;
-- 2.
BEGIN;
-- 3. The idempotency key and the loan, locked for the rest of the transaction.
SELECT l.*,
       (SELECT row_to_json(k) FROM (SELECT id, request_hash, status_code, response_body FROM idempotency_keys
          WHERE user_id = :user_id AND key = 'floor-' || :client_id::text || '-' || :key::text || '-' || txid_current()) k)
         AS replay
  FROM loans l WHERE l.id = :loan_id FOR UPDATE;
-- 4. Everything the command reads after the lock, and the ids it will write.
WITH heads AS (
       SELECT chain, seq, hash FROM chain_heads
        WHERE chain IN (CASE WHEN :part = 0 THEN 'audit' ELSE 'audit/' || :part::text END,
                        CASE WHEN :part = 0 THEN 'charter_capital' END,
                        CASE WHEN :part = 0 THEN 'journal' ELSE 'journal/' || :part::text END,
                        CASE WHEN :part = 0 THEN 'loan_transactions' ELSE 'loan_transactions/' || :part::text END)
        ORDER BY chain FOR UPDATE),
     snap AS (
       SELECT loan_id, as_of, covered_sequence, format_version, contract_fingerprint, state, taken_at
         FROM loan_snapshots WHERE loan_id = :loan_id AND as_of <= CURRENT_DATE ORDER BY as_of DESC LIMIT 1)
SELECT r.tx_id, r.entry_id, r.tx_seq, r.entry_seq, r.audit_seq,
       r::text AS read_row  -- everything read, sent to the client as the service would receive it
  FROM (
SELECT (SELECT json_agg(c) FROM (
          SELECT 0 AS part, id, holiday_on AS day, '' AS days_off FROM calendar_holidays WHERE removed_at IS NULL
          UNION ALL SELECT 1 AS part, id, effective_from AS day, days_off FROM calendar_weekly_rules
          UNION ALL SELECT 2 AS part, CAST(id AS BIGINT) AS id, business_date AS day, '' AS days_off
                      FROM fund_state WHERE id = 1) c) AS calendar,
       (SELECT json_agg(h) FROM heads h) AS heads,
       (SELECT max(seq) FILTER (WHERE chain LIKE 'loan_transactions%') + 1 FROM heads) AS tx_seq,
       (SELECT max(seq) FILTER (WHERE chain LIKE 'journal%') + 1 FROM heads) AS entry_seq,
       (SELECT max(seq) FILTER (WHERE chain LIKE 'audit%') + 1 FROM heads) AS audit_seq,
       (SELECT row_to_json(s) FROM snap s) AS snapshot,
       (SELECT json_agg(t ORDER BY t.id) FROM loan_transactions t
         WHERE t.loan_id = :loan_id
           AND (NOT EXISTS (SELECT 1 FROM snap)
                OR t.id > (SELECT covered_sequence FROM snap) OR t.value_date > (SELECT as_of FROM snap)))
         AS pending,
       (SELECT json_agg(json_build_array(id, debt_group)) FROM loans
         WHERE cooperative_id = (SELECT cooperative_id FROM loans WHERE id = :loan_id) AND id <> :loan_id
           AND status = 'active') AS siblings,
       (SELECT json_agg(b) FROM (SELECT account_code, SUM(debit_vnd) AS debit_vnd, SUM(credit_vnd) AS credit_vnd
                                   FROM journal_lines WHERE loan_id = :loan_id GROUP BY account_code) b) AS book,
       (SELECT row_to_json(a) FROM (
          SELECT c.*, s.*, o.email, o.full_name, o.disabled
            FROM cooperatives c
            LEFT JOIN cooperative_notification_settings s ON s.cooperative_id = c.id
            LEFT JOIN users o ON o.id = c.officer_id
           WHERE c.id = (SELECT cooperative_id FROM loans WHERE id = :loan_id)) a) AS audience,
       nextval(pg_get_serial_sequence('loan_transactions', 'id')) AS tx_id,
       nextval(pg_get_serial_sequence('journal_entries', 'id')) AS entry_id) r
\gset
-- 5. Every write in one statement.
WITH tx AS (
       INSERT INTO loan_transactions (id, loan_id, kind, value_date, amount_vnd, reference, repayment_kind,
                                      details, created_at, chain_part, chain_seq, chain_prev, chain_hash)
       VALUES (:tx_id, :loan_id, 'repayment', CURRENT_DATE, 1000, 'FLOOR ' || :client_id::text || '-' || :key::text,
               'ordinary', '{}', CURRENT_TIMESTAMP, :part, :tx_seq, md5(random()::text), md5(random()::text))),
     entry AS (
       INSERT INTO journal_entries (id, entry_date, kind, description, loan_id, transaction_id, business_key,
                                    posted_at, chain_part, chain_seq, chain_prev, chain_hash)
       VALUES (:entry_id, CURRENT_DATE, 'repayment', 'Thu nợ (floor)', :loan_id, :tx_id, 'floor/' || :tx_id::text,
               CURRENT_TIMESTAMP, :part, :entry_seq, md5(random()::text), md5(random()::text))),
     lines AS (
       INSERT INTO journal_lines (entry_id, account_code, debit_vnd, credit_vnd, loan_id)
       VALUES (:entry_id, '1121', 1000, 0, :loan_id), (:entry_id, '12831', 0, 1000, :loan_id)),
     loan AS (
       UPDATE loans SET in_term_principal_vnd = in_term_principal_vnd, version = version + 1,
                        updated_at = CURRENT_TIMESTAMP WHERE id = :loan_id),
     audit AS (
       INSERT INTO audit_records (at, actor_id, actor, action, entity_type, entity_id, before, after, request_id,
                                  chain_part, chain_seq, chain_prev, chain_hash)
       VALUES (CURRENT_TIMESTAMP, :user_id, 'floor', 'loan.repayment', 'loan_transaction', :tx_id::text, NULL,
               '{"amount_vnd":1000,"kind":"repayment","reference":"FLOOR"}', md5(random()::text),
               :part, :audit_seq, md5(random()::text), md5(random()::text))),
     heads AS (
       UPDATE chain_heads SET seq = CASE chain WHEN CASE WHEN :part = 0 THEN 'loan_transactions' ELSE 'loan_transactions/' || :part::text END THEN :tx_seq::bigint
                                               WHEN CASE WHEN :part = 0 THEN 'journal' ELSE 'journal/' || :part::text END THEN :entry_seq::bigint
                                               WHEN CASE WHEN :part = 0 THEN 'audit' ELSE 'audit/' || :part::text END THEN :audit_seq::bigint END,
                              hash = md5(random()::text), updated_at = CURRENT_TIMESTAMP
        WHERE (chain = CASE WHEN :part = 0 THEN 'loan_transactions' ELSE 'loan_transactions/' || :part::text END AND seq = :tx_seq - 1)
           OR (chain = CASE WHEN :part = 0 THEN 'journal' ELSE 'journal/' || :part::text END AND seq = :entry_seq - 1)
           OR (chain = CASE WHEN :part = 0 THEN 'audit' ELSE 'audit/' || :part::text END AND seq = :audit_seq - 1)
       RETURNING chain),
     outbox AS (
       INSERT INTO outbox_messages (dedupe_key, kind, recipient, language, subject, body_text, message_id, status,
                                    attempts, next_attempt_at, created_at, related_type, related_id)
       VALUES ('floor/receipt/' || :tx_id::text, 'repayment_receipt', 'htx@example.vn', 'vi', 'Biên nhận thu nợ',
               repeat('Biên nhận thu nợ khoản vay (floor). ', 20), md5(random()::text) || '@coopfund', 'pending', 0,
               CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'loan_transaction', :tx_id::text)),
     idem AS (
       INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, status_code, response_body, created_at)
       VALUES (:user_id, 'floor-' || :client_id::text || '-' || :key::text || '-' || :tx_id::text, 'POST',
               '/api/v1/loans/' || :loan_id::text || '/repayments', md5(random()::text), 201,
               repeat('{"id":1,"amount_vnd":1000}', 20), CURRENT_TIMESTAMP))
SELECT count(*) AS heads_moved FROM heads;
-- 6.
COMMIT;
