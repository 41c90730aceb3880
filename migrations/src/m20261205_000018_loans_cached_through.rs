//! The close of business's "cached through" marks on `fund_state` (issue 14, cobpg): the close writes only the
//! loan rows whose cached balances change, and these say as of which date the others' caches are.
//!
//! - `open_loans_cached_through` (D): set when the close finishes a day (to the new business date). An open loan
//!   whose row's `balances_as_of` is before D − 1 was closed that day without being written (its balances did
//!   not change) and has not been written since: its cache is as of D.
//! - `cob_day` and `cob_cooperatives_through` (p, W): the day being closed and the last cooperative whose loans it
//!   has closed so far (chunks go in cooperative order). An open loan of a cooperative ≤ W whose
//!   `balances_as_of` is before p is cached as of p + 1. Cleared when the day finishes.
//!
//! - `loans.balances_cached_by_command`: whether the row's `balances_as_of` was last written by a command on the
//!   loan (true) rather than by the close of business. A row the close of day p − 1 wrote (as of p) and the close
//!   of p leaves alone is covered by the marks; one a command wrote on day p, after the close of p passed its
//!   cooperative, is as of p and is not: the date alone cannot tell the two apart. False for the rows there are
//!   (no close is running while the schema changes, and a close may leave any row it closed unwritten).
//!
//! Every reader of a loan's as-of date goes through `app::ledger::effective_balances_as_of`. Rows from before
//! this migration get NULL marks: every loan's as-of date is then its row's, as before.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [
            date_null(FundState::OpenLoansCachedThrough),
            date_null(FundState::CobDay),
            big_integer_null(FundState::CobCooperativesThrough),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(FundState::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Loans::Table)
                    .add_column(boolean(Loans::BalancesCachedByCommand).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            FundState::OpenLoansCachedThrough,
            FundState::CobDay,
            FundState::CobCooperativesThrough,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(FundState::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Loans::Table)
                    .drop_column(Loans::BalancesCachedByCommand)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum FundState {
    Table,
    OpenLoansCachedThrough,
    CobDay,
    CobCooperativesThrough,
}

#[derive(DeriveIden)]
enum Loans {
    Table,
    BalancesCachedByCommand,
}
