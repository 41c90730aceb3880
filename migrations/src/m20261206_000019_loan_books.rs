//! `loan_books`: each loan's posted book kept as running sums, so that reading it does not replay the loan's
//! whole journal (issue 14, "fold once, not every time").
//!
//! Posting by difference needs each loan's book (Σ debits and Σ credits of its journal lines, per account):
//! every money command reads its loan's, and the close of business reads every open loan's, every day. Summed
//! from `journal_lines`, that read grows with the loan's history: a daily accrual adds two lines a loan a day,
//! so on the 10,000-loan bulk fund the books of the 7,843 open loans took 0.79 s to sum after 60 closed days
//! (120 lines a loan) — nearly half of a day's close, and ≈ 4 s a day after a year.
//!
//! One row per (loan, account) with the sums of the loan's lines on that account. The database keeps it, in the
//! same statement as the lines, so no code path that inserts journal lines can forget it (the service's
//! postings, the close's set-based inserts, the bulk demo load, PostgreSQL's `COPY`):
//! - SQLite: a row trigger `AFTER INSERT ON journal_lines` adds each line with a loan to its row (an upsert);
//! - PostgreSQL: a statement trigger with the inserted lines as a transition table adds their sums per (loan,
//!   account) in one upsert, in (loan, account) order so that two statements meet the rows in the same order.
//!
//! The journal is append-only (the lending migration), so the sums only ever grow by insertions. The rows are
//! filled from the lines there are when this migration runs. `ledger verify` compares every row with the sums of
//! the lines and names the loan and account of any difference. A `pg_dump` restores the table's rows in its
//! data section and creates the trigger afterwards (post-data), so a restore does not count the lines twice.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The table; on SQLite its rows are stored in the primary key's b-tree (`WITHOUT ROWID`: one lookup a loan's
/// book instead of the key's index and then the table).
const CREATE: &str = "CREATE TABLE loan_books (
        loan_id BIGINT NOT NULL,
        account_code VARCHAR(10) NOT NULL,
        debit_vnd BIGINT NOT NULL,
        credit_vnd BIGINT NOT NULL,
        PRIMARY KEY (loan_id, account_code)
    )";

/// The rows of the lines already posted (the same on both backends).
const FILL: &str = "INSERT INTO loan_books (loan_id, account_code, debit_vnd, credit_vnd)
     SELECT loan_id, account_code, SUM(debit_vnd), SUM(credit_vnd)
     FROM journal_lines WHERE loan_id IS NOT NULL
     GROUP BY loan_id, account_code";

const SQLITE_TRIGGER: &str = "CREATE TRIGGER journal_lines_loan_books AFTER INSERT ON journal_lines
    WHEN NEW.loan_id IS NOT NULL
    BEGIN
        INSERT INTO loan_books (loan_id, account_code, debit_vnd, credit_vnd)
        VALUES (NEW.loan_id, NEW.account_code, NEW.debit_vnd, NEW.credit_vnd)
        ON CONFLICT (loan_id, account_code) DO UPDATE SET
            debit_vnd = debit_vnd + excluded.debit_vnd,
            credit_vnd = credit_vnd + excluded.credit_vnd;
    END";

const POSTGRES_TRIGGER: [&str; 2] = [
    "CREATE FUNCTION coopfund_loan_books_add() RETURNS trigger AS $$
     BEGIN
       INSERT INTO loan_books AS book (loan_id, account_code, debit_vnd, credit_vnd)
       SELECT loan_id, account_code, SUM(debit_vnd), SUM(credit_vnd)
       FROM inserted_lines WHERE loan_id IS NOT NULL
       GROUP BY loan_id, account_code
       ORDER BY loan_id, account_code
       ON CONFLICT (loan_id, account_code) DO UPDATE SET
         debit_vnd = book.debit_vnd + EXCLUDED.debit_vnd,
         credit_vnd = book.credit_vnd + EXCLUDED.credit_vnd;
       RETURN NULL;
     END;
     $$ LANGUAGE plpgsql",
    "CREATE TRIGGER journal_lines_loan_books AFTER INSERT ON journal_lines
     REFERENCING NEW TABLE AS inserted_lines
     FOR EACH STATEMENT EXECUTE FUNCTION coopfund_loan_books_add()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = db.get_database_backend() == DbBackend::Postgres;
        let create = if postgres {
            CREATE.to_owned()
        } else {
            format!("{CREATE} WITHOUT ROWID")
        };
        db.execute_unprepared(&create).await?;
        db.execute_unprepared(FILL).await?;
        let trigger: &[&str] = if postgres {
            &POSTGRES_TRIGGER
        } else {
            &[SQLITE_TRIGGER]
        };
        for statement in trigger {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The inverse of `up`, for completeness: the migrator wraps every migration so that none goes back.
        let db = manager.get_connection();
        let statements: &[&str] = match db.get_database_backend() {
            DbBackend::Postgres => &[
                "DROP TRIGGER journal_lines_loan_books ON journal_lines",
                "DROP FUNCTION coopfund_loan_books_add()",
                "DROP TABLE loan_books",
            ],
            _ => &[
                "DROP TRIGGER journal_lines_loan_books",
                "DROP TABLE loan_books",
            ],
        };
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
