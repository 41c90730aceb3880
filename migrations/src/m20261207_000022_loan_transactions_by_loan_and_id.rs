//! Issue 14: the loan's transactions by id, `idx_loan_transactions_loan_id` on `(loan_id, id)`.
//!
//! Every read of a loan and every money command reads the loan's transactions still to fold on top of its
//! latest snapshot: those recorded since (`id` above the snapshot's covered sequence) or dated after it
//! (`coopfund::app::loan_engine`). With only `(loan_id, value_date)` to go by, that read walked every
//! transaction of the loan and kept the few recent ones, so it grew with the loan's history (≈ 1 ms of
//! PostgreSQL's time at 2,000 transactions against 0.1 ms with this index: `benches/README.md`, "Reads flat in
//! history"). With this index, "recorded since" is a range of it and "dated after" a range of the other.
//!
//! Only an index is added; no row changes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_loan_transactions_loan_id")
                    .table(LoanTransactions::Table)
                    .col(LoanTransactions::LoanId)
                    .col(LoanTransactions::Id)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum LoanTransactions {
    Table,
    LoanId,
    Id,
}
