//! Bank statements of the fund's own accounts (issue 12): each imported file with its SHA-256, its
//! lines (unique per bank account on the bank's transaction id, or on a fingerprint of the line when
//! the bank gives none, so a re-import or an overlapping statement adds only lines not seen before),
//! each line's match proposal and what the accountant decided; and the cooperatives' own bank accounts,
//! by which a transfer without a loan number is recognised.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BankStatements::Table)
                    .col(big_pk_auto(BankStatements::Id))
                    .col(string_len(BankStatements::BankAccount, 50))
                    .col(string_len(BankStatements::Format, 20))
                    .col(string_len_null(BankStatements::Profile, 50))
                    .col(string_len(BankStatements::FileName, 200))
                    .col(string_len(BankStatements::FileSha256, 64))
                    .col(string_len_null(BankStatements::StatementRef, 100))
                    .col(date_null(BankStatements::PeriodFrom))
                    .col(date_null(BankStatements::PeriodTo))
                    .col(big_integer_null(BankStatements::OpeningBalanceVnd))
                    .col(big_integer_null(BankStatements::ClosingBalanceVnd))
                    .col(integer(BankStatements::LineCount))
                    .col(integer(BankStatements::NewLineCount))
                    .col(big_integer_null(BankStatements::ImportedBy))
                    .col(timestamp_with_time_zone(BankStatements::ImportedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_bank_statements_account_file")
                    .table(BankStatements::Table)
                    .col(BankStatements::BankAccount)
                    .col(BankStatements::FileSha256)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BankStatementLines::Table)
                    .col(big_pk_auto(BankStatementLines::Id))
                    .col(big_integer(BankStatementLines::StatementId))
                    .col(string_len(BankStatementLines::BankAccount, 50))
                    .col(integer(BankStatementLines::LineNo))
                    .col(date(BankStatementLines::BookingDate))
                    .col(date(BankStatementLines::ValueDate))
                    .col(string_len(BankStatementLines::Direction, 10))
                    .col(big_integer(BankStatementLines::AmountVnd))
                    .col(text(BankStatementLines::Description))
                    .col(string_len_null(BankStatementLines::BankTransactionId, 100))
                    .col(string_len(BankStatementLines::CounterpartyName, 200))
                    .col(string_len(BankStatementLines::CounterpartyAccount, 50))
                    .col(string_len(BankStatementLines::DedupeKey, 120))
                    .col(string_len(BankStatementLines::Status, 20))
                    .col(big_integer_null(BankStatementLines::ProposedLoanId))
                    .col(big_integer_null(BankStatementLines::ProposedTransactionId))
                    .col(string_len(BankStatementLines::MatchReason, 40))
                    .col(integer(BankStatementLines::MatchConfidence))
                    .col(text(BankStatementLines::Candidates))
                    .col(text_null(BankStatementLines::Plan))
                    .col(string_len_null(BankStatementLines::RepaymentKind, 20))
                    .col(big_integer_null(BankStatementLines::ProposedBy))
                    .col(big_integer_null(BankStatementLines::PostingBy))
                    .col(text(BankStatementLines::PostedTransactions))
                    .col(text_null(BankStatementLines::RejectReason))
                    .col(text_null(BankStatementLines::LastError))
                    .col(big_integer_null(BankStatementLines::DecidedBy))
                    .col(timestamp_with_time_zone_null(BankStatementLines::DecidedAt))
                    .col(integer(BankStatementLines::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BankStatementLines::Table, BankStatementLines::StatementId)
                            .to(BankStatements::Table, BankStatements::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The heart of "never imported twice": one row per bank account and bank transaction id (or
        // line fingerprint), enforced by the database whatever the number of importers.
        manager
            .create_index(
                Index::create()
                    .name("ux_bank_statement_lines_account_key")
                    .table(BankStatementLines::Table)
                    .col(BankStatementLines::BankAccount)
                    .col(BankStatementLines::DedupeKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_bank_statement_lines_statement")
                    .table(BankStatementLines::Table)
                    .col(BankStatementLines::StatementId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CooperativeBankAccounts::Table)
                    .col(big_pk_auto(CooperativeBankAccounts::Id))
                    .col(big_integer(CooperativeBankAccounts::CooperativeId))
                    .col(string_len(CooperativeBankAccounts::AccountNumber, 50))
                    .col(string_len(CooperativeBankAccounts::BankName, 200))
                    .col(big_integer_null(CooperativeBankAccounts::CreatedBy))
                    .col(timestamp_with_time_zone(CooperativeBankAccounts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                CooperativeBankAccounts::Table,
                                CooperativeBankAccounts::CooperativeId,
                            )
                            .to(Cooperatives::Table, Cooperatives::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_cooperative_bank_accounts_number")
                    .table(CooperativeBankAccounts::Table)
                    .col(CooperativeBankAccounts::AccountNumber)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(CooperativeBankAccounts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(BankStatementLines::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(BankStatements::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum BankStatements {
    Table,
    Id,
    BankAccount,
    Format,
    Profile,
    FileName,
    FileSha256,
    StatementRef,
    PeriodFrom,
    PeriodTo,
    OpeningBalanceVnd,
    ClosingBalanceVnd,
    LineCount,
    NewLineCount,
    ImportedBy,
    ImportedAt,
}

#[derive(DeriveIden)]
enum BankStatementLines {
    Table,
    Id,
    StatementId,
    BankAccount,
    LineNo,
    BookingDate,
    ValueDate,
    Direction,
    AmountVnd,
    Description,
    BankTransactionId,
    CounterpartyName,
    CounterpartyAccount,
    DedupeKey,
    Status,
    ProposedLoanId,
    ProposedTransactionId,
    MatchReason,
    MatchConfidence,
    Candidates,
    Plan,
    RepaymentKind,
    ProposedBy,
    PostingBy,
    PostedTransactions,
    RejectReason,
    LastError,
    DecidedBy,
    DecidedAt,
    Version,
}

#[derive(DeriveIden)]
enum CooperativeBankAccounts {
    Table,
    Id,
    CooperativeId,
    AccountNumber,
    BankName,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Cooperatives {
    Table,
    Id,
}
