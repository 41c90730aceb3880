-- The SQL of one repayment alone (issue 14's "PostgreSQL floor"), as a pgbench custom script.
--
-- benches/load.py runs it right after the TPC-B pgbench, with the same clients and duration:
--
--   pgbench -n -f benches/repayment_floor.sql -c 4 -j 2 -T 15 \
--           -D loan_min=1 -D loan_max=1000 -D user_id=1 DB
--
-- on a scratch database the service made itself (`coopfund demo --loans 1000`: its migrations, so its
-- tables, indexes, constraints and triggers; the chain heads; loans to lock). No service in the way: what
-- this does per second is the ceiling a repayment over HTTP can reach on this PostgreSQL.
--
-- The statements are those a repayment makes today, in its order (benches/README.md, "Statements per
-- repayment, again (issue 14, repaystmts)": 20 with BEGIN and COMMIT, as the server logs them), each against
-- the same table and index as the service's. Values
-- are made up (the hashes are random text, the journal lines two instead of the 2-4 a repayment posts);
-- reads that need a row the scratch fund does not have (the bearer token) find nothing, which costs the same
-- index probe. The critical section is the service's: the heads of the loan's part of the chains (issue 14,
-- chainparts: part = loan id % 16; part 0 also holds the charter capital's head) are taken FOR UPDATE once, at
-- the first chained row, the rows of the three chains are linked after them in that part (`chain_part`), and
-- the three heads are moved in one UPDATE before COMMIT; repayments on loans of the same part serialize on
-- them here too, those of different parts do not.

\set loan_id random(:loan_min, :loan_max)
\set key random(1, 2000000000)
\set part :loan_id % 16

-- The bearer token and its account, one join (every authenticated request).
SELECT u.id, u.role, u.disabled FROM api_tokens t JOIN users u ON u.id = t.user_id
 WHERE t.token_hash = md5(:key::text) AND t.revoked_at IS NULL;
BEGIN;
-- The idempotency key: a replay?
SELECT id, request_hash, status_code, response_body FROM idempotency_keys
 WHERE user_id = :user_id AND key = 'floor-' || :client_id::text || '-' || :key::text || '-' || txid_current();
-- The loan, locked for the rest of the transaction.
SELECT * FROM loans WHERE id = :loan_id FOR UPDATE;
-- The business date and the calendar in force, one UNION ALL (calendar::business_date_and_calendar).
SELECT 0 AS part, id, holiday_on AS day, '' AS days_off FROM calendar_holidays WHERE removed_at IS NULL
 UNION ALL SELECT 1 AS part, id, effective_from AS day, days_off FROM calendar_weekly_rules
 UNION ALL SELECT 2 AS part, CAST(id AS BIGINT) AS id, business_date AS day, '' AS days_off FROM fund_state
 WHERE id = 1;
-- The heads of the loan's part, locked once in one fixed order (chains::ChainHeads::for_loan); the three
-- sequence numbers the rows below take.
SELECT max(seq) FILTER (WHERE chain LIKE 'loan_transactions%') + 1 AS tx_seq,
       max(seq) FILTER (WHERE chain LIKE 'journal%') + 1 AS entry_seq,
       max(seq) FILTER (WHERE chain LIKE 'audit%') + 1 AS audit_seq
  FROM (SELECT chain, seq, hash FROM chain_heads
         WHERE chain IN (CASE WHEN :part = 0 THEN 'audit' ELSE 'audit/' || :part::text END,
                         CASE WHEN :part = 0 THEN 'charter_capital' END,
                         CASE WHEN :part = 0 THEN 'journal' ELSE 'journal/' || :part::text END,
                         CASE WHEN :part = 0 THEN 'loan_transactions' ELSE 'loan_transactions/' || :part::text END)
         ORDER BY chain FOR UPDATE) AS heads
\gset
INSERT INTO loan_transactions (loan_id, kind, value_date, amount_vnd, reference, repayment_kind, details,
                               created_at, chain_part, chain_seq, chain_prev, chain_hash)
VALUES (:loan_id, 'repayment', CURRENT_DATE, 1000, 'FLOOR ' || :client_id::text || '-' || :key::text, 'ordinary', '{}',
        CURRENT_TIMESTAMP, :part, :tx_seq, md5(random()::text), md5(random()::text))
RETURNING id AS tx_id
\gset
-- The fold: the latest snapshot, the transactions after it; the siblings' debt groups (group-wide
-- classification); the posted book.
SELECT loan_id, as_of, covered_sequence, format_version, contract_fingerprint, state, taken_at
  FROM loan_snapshots WHERE loan_id = :loan_id AND as_of <= CURRENT_DATE ORDER BY as_of DESC LIMIT 1;
SELECT * FROM loan_transactions WHERE loan_id = :loan_id AND (id > :tx_id - 1 OR value_date > CURRENT_DATE - 1)
 ORDER BY id;
SELECT id, debt_group FROM loans
 WHERE cooperative_id = (SELECT cooperative_id FROM loans WHERE id = :loan_id) AND id <> :loan_id;
SELECT account_code, SUM(debit_vnd) AS debit_vnd, SUM(credit_vnd) AS credit_vnd FROM journal_lines
 WHERE loan_id = :loan_id GROUP BY account_code;
-- The entry and its lines.
INSERT INTO journal_entries (entry_date, kind, description, loan_id, transaction_id, business_key, posted_at,
                             chain_part, chain_seq, chain_prev, chain_hash)
VALUES (CURRENT_DATE, 'repayment', 'Thu nợ (floor)', :loan_id, :tx_id, 'floor/' || :tx_id::text, CURRENT_TIMESTAMP,
        :part, :entry_seq, md5(random()::text), md5(random()::text))
RETURNING id AS entry_id
\gset
INSERT INTO journal_lines (entry_id, account_code, debit_vnd, credit_vnd, loan_id)
VALUES (:entry_id, '1121', 1000, 0, :loan_id), (:entry_id, '12831', 0, 1000, :loan_id);
-- The loan's cached balances.
UPDATE loans SET in_term_principal_vnd = in_term_principal_vnd, version = version + 1,
                 updated_at = CURRENT_TIMESTAMP WHERE id = :loan_id;
-- The audit record.
INSERT INTO audit_records (at, actor_id, actor, action, entity_type, entity_id, before, after, request_id,
                           chain_part, chain_seq, chain_prev, chain_hash)
VALUES (CURRENT_TIMESTAMP, :user_id, 'floor', 'loan.repayment', 'loan_transaction', :tx_id::text, NULL,
        '{"amount_vnd":1000,"kind":"repayment","reference":"FLOOR"}', md5(random()::text),
        :part, :audit_seq, md5(random()::text), md5(random()::text));
-- The part's three heads moved in one statement, each from where it was read (chains::ChainHeads::finish).
UPDATE chain_heads SET seq = CASE chain WHEN CASE WHEN :part = 0 THEN 'loan_transactions' ELSE 'loan_transactions/' || :part::text END THEN :tx_seq::bigint
                                        WHEN CASE WHEN :part = 0 THEN 'journal' ELSE 'journal/' || :part::text END THEN :entry_seq::bigint
                                        WHEN CASE WHEN :part = 0 THEN 'audit' ELSE 'audit/' || :part::text END THEN :audit_seq::bigint END,
                       hash = md5(random()::text), updated_at = CURRENT_TIMESTAMP
 WHERE (chain = CASE WHEN :part = 0 THEN 'loan_transactions' ELSE 'loan_transactions/' || :part::text END AND seq = :tx_seq - 1)
    OR (chain = CASE WHEN :part = 0 THEN 'journal' ELSE 'journal/' || :part::text END AND seq = :entry_seq - 1)
    OR (chain = CASE WHEN :part = 0 THEN 'audit' ELSE 'audit/' || :part::text END AND seq = :audit_seq - 1);
-- The receipt's audience: the cooperative, its notification settings and its officer, one join by keys.
SELECT c.*, s.*, o.email, o.full_name, o.disabled
  FROM cooperatives c
  LEFT JOIN cooperative_notification_settings s ON s.cooperative_id = c.id
  LEFT JOIN users o ON o.id = c.officer_id
 WHERE c.id = (SELECT cooperative_id FROM loans WHERE id = :loan_id);
-- The outbox message.
INSERT INTO outbox_messages (dedupe_key, kind, recipient, language, subject, body_text, message_id, status,
                             attempts, next_attempt_at, created_at, related_type, related_id)
VALUES ('floor/receipt/' || :tx_id::text, 'repayment_receipt', 'htx@example.vn', 'vi', 'Biên nhận thu nợ',
        repeat('Biên nhận thu nợ khoản vay (floor). ', 20), md5(random()::text) || '@coopfund', 'pending', 0,
        CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'loan_transaction', :tx_id::text);
-- The idempotency record (the answer, for a replay).
INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, status_code, response_body, created_at)
VALUES (:user_id, 'floor-' || :client_id::text || '-' || :key::text || '-' || :tx_id::text, 'POST',
        '/api/v1/loans/' || :loan_id::text || '/repayments', md5(random()::text), 201,
        repeat('{"id":1,"amount_vnd":1000}', 20), CURRENT_TIMESTAMP);
COMMIT;
