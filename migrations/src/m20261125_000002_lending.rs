//! Lending and the books: fund state (business date), charter capital, chart of accounts,
//! products, applications with collateral, loans, loan transactions, journal entries and lines,
//! and idempotency keys.
//!
//! The journal is append-only: no code path updates or deletes `journal_entries` or
//! `journal_lines`; on PostgreSQL a trigger refuses it as well. Loan transactions are append-only
//! too: a reversal is a new row pointing at the original.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The default chart of accounts (DOMAIN.md §9; codes after Circular 200/2014, to be confirmed by
/// the fund's accountant): code, Vietnamese name, English name, kind, normal side.
pub const CHART: &[(&str, &str, &str, &str, &str)] = &[
    (
        "1121",
        "Tiền gửi ngân hàng",
        "Cash at bank",
        "asset",
        "debit",
    ),
    (
        "12831",
        "Cho vay trong hạn",
        "Loans in term",
        "asset",
        "debit",
    ),
    (
        "12832",
        "Cho vay quá hạn",
        "Loans overdue",
        "asset",
        "debit",
    ),
    (
        "13881",
        "Lãi cho vay phải thu",
        "Interest receivable",
        "asset",
        "debit",
    ),
    (
        "22931",
        "Dự phòng cụ thể",
        "Specific provision",
        "contra_asset",
        "credit",
    ),
    (
        "22932",
        "Dự phòng chung",
        "General provision",
        "contra_asset",
        "credit",
    ),
    (
        "3388",
        "Tiền trả trước của bên vay",
        "Advances received from borrowers",
        "liability",
        "credit",
    ),
    ("4111", "Vốn điều lệ", "Charter capital", "equity", "credit"),
    (
        "51511",
        "Thu lãi cho vay",
        "Interest income",
        "income",
        "credit",
    ),
    (
        "51512",
        "Thu lãi quá hạn và lãi chậm trả",
        "Overdue and late interest income",
        "income",
        "credit",
    ),
    (
        "6426",
        "Chi phí dự phòng",
        "Provision expense",
        "expense",
        "debit",
    ),
    (
        "6428",
        "Lãi không thu được ghi giảm",
        "Interest reversed as uncollectable",
        "expense",
        "debit",
    ),
    (
        "0041",
        "Lãi chưa thu được (ngoại bảng)",
        "Interest not yet recognised (memo)",
        "memo",
        "debit",
    ),
    (
        "0042",
        "Nợ đã xử lý rủi ro đang theo dõi (ngoại bảng)",
        "Written-off loans under follow-up (memo)",
        "memo",
        "debit",
    ),
    (
        "0090",
        "Đối ứng ngoại bảng",
        "Memo contra",
        "memo",
        "credit",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        seed_chart(manager).await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            forbid_journal_changes(manager).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "idempotency_keys",
            "journal_lines",
            "journal_entries",
            "loan_transactions",
            "loans",
            "collateral_items",
            "applications",
            "products",
            "ledger_accounts",
            "charter_capital_contributions",
            "fund_state",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(name)).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

fn tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table(FundState::Table)
            .col(integer(FundState::Id).primary_key())
            .col(date(FundState::BusinessDate))
            .col(timestamp_with_time_zone(FundState::UpdatedAt))
            .to_owned(),
        Table::create()
            .table(CharterCapitalContributions::Table)
            .col(big_pk_auto(CharterCapitalContributions::Id))
            .col(big_integer(CharterCapitalContributions::AmountVnd))
            .col(date(CharterCapitalContributions::ContributedOn))
            .col(string_len(CharterCapitalContributions::Reference, 100))
            .col(big_integer_null(CharterCapitalContributions::CreatedBy))
            .col(timestamp_with_time_zone(
                CharterCapitalContributions::CreatedAt,
            ))
            .to_owned(),
        Table::create()
            .table(LedgerAccounts::Table)
            .col(string_len(LedgerAccounts::Code, 10).primary_key())
            .col(string_len(LedgerAccounts::NameVi, 200))
            .col(string_len(LedgerAccounts::NameEn, 200))
            .col(string_len(LedgerAccounts::Kind, 20))
            .col(string_len(LedgerAccounts::NormalSide, 6))
            .to_owned(),
        Table::create()
            .table(Products::Table)
            .col(big_pk_auto(Products::Id))
            .col(string_len_uniq(Products::Code, 30))
            .col(string_len(Products::Name, 200))
            .col(text(Products::Description))
            .col(string_len(Products::RatePercent, 20))
            .col(string_len(Products::Methods, 100))
            .col(string_len(Products::PeriodMonths, 30))
            .col(big_integer(Products::MinAmountVnd))
            .col(big_integer(Products::MaxAmountVnd))
            .col(integer(Products::MinInstallments))
            .col(integer(Products::MaxInstallments))
            .col(integer(Products::MaxPrincipalGrace))
            .col(string_len(Products::DayCount, 20))
            .col(big_integer(Products::InstallmentUnitVnd))
            .col(string_len(Products::OverdueMultiplier, 20))
            .col(string_len(Products::LateRatePercent, 20))
            .col(string_len(Products::AllocationOrder, 300))
            .col(string_len(Products::PrepaymentRule, 30))
            .col(big_integer(Products::CollateralFreeLimitVnd))
            .col(boolean(Products::Active))
            .col(integer(Products::Version))
            .col(timestamp_with_time_zone(Products::CreatedAt))
            .col(timestamp_with_time_zone(Products::UpdatedAt))
            .to_owned(),
        Table::create()
            .table(Applications::Table)
            .col(big_pk_auto(Applications::Id))
            .col(string_len_uniq(Applications::Number, 30))
            .col(big_integer(Applications::CooperativeId))
            .col(big_integer(Applications::ProductId))
            .col(big_integer(Applications::AmountVnd))
            .col(integer(Applications::Installments))
            .col(integer(Applications::PeriodMonths))
            .col(string_len(Applications::Method, 20))
            .col(integer(Applications::PrincipalGrace))
            .col(text(Applications::Purpose))
            .col(big_integer(Applications::ProjectTotalVnd))
            .col(big_integer(Applications::OwnCapitalVnd))
            .col(boolean(Applications::NoBadDebtDeclared))
            .col(text(Applications::Documents))
            .col(string_len(Applications::Status, 20))
            .col(big_integer_null(Applications::CreatedBy))
            .col(big_integer_null(Applications::AppraisedBy))
            .col(text_null(Applications::AppraisalNote))
            .col(big_integer_null(Applications::ApprovedBy))
            .col(big_integer_null(Applications::CouncilApprovedBy))
            .col(text_null(Applications::DecisionReason))
            .col(timestamp_with_time_zone_null(Applications::SubmittedAt))
            .col(timestamp_with_time_zone_null(Applications::DecidedAt))
            .col(integer(Applications::Version))
            .col(timestamp_with_time_zone(Applications::CreatedAt))
            .col(timestamp_with_time_zone(Applications::UpdatedAt))
            .foreign_key(
                ForeignKey::create()
                    .from(Applications::Table, Applications::CooperativeId)
                    .to(Coop::Table, Coop::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(Applications::Table, Applications::ProductId)
                    .to(Products::Table, Products::Id),
            )
            .to_owned(),
        Table::create()
            .table(CollateralItems::Table)
            .col(big_pk_auto(CollateralItems::Id))
            .col(big_integer(CollateralItems::ApplicationId))
            .col(string_len(CollateralItems::Kind, 40))
            .col(text(CollateralItems::Description))
            .col(big_integer(CollateralItems::AppraisedValueVnd))
            .col(string_len(CollateralItems::DiscountRatePercent, 20))
            .foreign_key(
                ForeignKey::create()
                    .from(CollateralItems::Table, CollateralItems::ApplicationId)
                    .to(Applications::Table, Applications::Id),
            )
            .to_owned(),
        Table::create()
            .table(Loans::Table)
            .col(big_pk_auto(Loans::Id))
            .col(string_len_uniq(Loans::Number, 30))
            .col(big_integer_uniq(Loans::ApplicationId))
            .col(big_integer(Loans::CooperativeId))
            .col(big_integer(Loans::ProductId))
            .col(big_integer_null(Loans::OfficerId))
            .col(big_integer(Loans::PrincipalVnd))
            .col(string_len(Loans::RatePercent, 20))
            .col(string_len(Loans::Method, 20))
            .col(integer(Loans::Installments))
            .col(integer(Loans::PeriodMonths))
            .col(integer(Loans::PrincipalGrace))
            .col(string_len(Loans::DayCount, 20))
            .col(big_integer(Loans::InstallmentUnitVnd))
            .col(date_null(Loans::FirstDueOn))
            .col(string_len(Loans::OverdueMultiplier, 20))
            .col(string_len(Loans::LateRatePercent, 20))
            .col(string_len(Loans::AllocationOrder, 300))
            .col(string_len(Loans::PrepaymentRule, 30))
            .col(big_integer(Loans::CollateralValueVnd))
            .col(string_len(Loans::Status, 20))
            .col(string_len_null(Loans::ContractNumber, 50))
            .col(date_null(Loans::SignedOn))
            .col(date_null(Loans::FirstDisbursedOn))
            .col(date_null(Loans::ClosedOn))
            .col(big_integer(Loans::DisbursedVnd))
            .col(big_integer(Loans::InTermPrincipalVnd))
            .col(big_integer(Loans::OverduePrincipalVnd))
            .col(big_integer(Loans::AdvanceVnd))
            .col(integer(Loans::Dpd))
            .col(integer(Loans::DebtGroup))
            .col(integer(Loans::RestructureCount))
            .col(date_null(Loans::BalancesAsOf))
            .col(integer(Loans::Version))
            .col(timestamp_with_time_zone(Loans::CreatedAt))
            .col(timestamp_with_time_zone(Loans::UpdatedAt))
            .foreign_key(
                ForeignKey::create()
                    .from(Loans::Table, Loans::CooperativeId)
                    .to(Coop::Table, Coop::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(Loans::Table, Loans::ApplicationId)
                    .to(Applications::Table, Applications::Id),
            )
            .to_owned(),
        Table::create()
            .table(LoanTransactions::Table)
            .col(big_pk_auto(LoanTransactions::Id))
            .col(big_integer(LoanTransactions::LoanId))
            .col(string_len(LoanTransactions::Kind, 20))
            .col(date(LoanTransactions::ValueDate))
            .col(big_integer(LoanTransactions::AmountVnd))
            .col(string_len(LoanTransactions::Reference, 100))
            .col(string_len_null(LoanTransactions::RepaymentKind, 20))
            .col(big_integer_null(LoanTransactions::ReversesId))
            .col(text_null(LoanTransactions::Reason))
            .col(text(LoanTransactions::Details))
            .col(big_integer_null(LoanTransactions::ApprovedBy))
            .col(big_integer_null(LoanTransactions::CreatedBy))
            .col(timestamp_with_time_zone(LoanTransactions::CreatedAt))
            .foreign_key(
                ForeignKey::create()
                    .from(LoanTransactions::Table, LoanTransactions::LoanId)
                    .to(Loans::Table, Loans::Id),
            )
            .to_owned(),
        Table::create()
            .table(JournalEntries::Table)
            .col(big_pk_auto(JournalEntries::Id))
            .col(date(JournalEntries::EntryDate))
            .col(string_len(JournalEntries::Kind, 40))
            .col(text(JournalEntries::Description))
            .col(big_integer_null(JournalEntries::LoanId))
            .col(big_integer_null(JournalEntries::TransactionId))
            .col(big_integer_null(JournalEntries::ReversesEntryId))
            // Unique when set: makes a retried posting (e.g. a COB step for one loan and date) a no-op.
            .col(string_len_null(JournalEntries::BusinessKey, 120).unique_key())
            .col(big_integer_null(JournalEntries::CreatedBy))
            .col(timestamp_with_time_zone(JournalEntries::PostedAt))
            .to_owned(),
        Table::create()
            .table(JournalLines::Table)
            .col(big_pk_auto(JournalLines::Id))
            .col(big_integer(JournalLines::EntryId))
            .col(string_len(JournalLines::AccountCode, 10))
            .col(big_integer(JournalLines::DebitVnd))
            .col(big_integer(JournalLines::CreditVnd))
            .col(big_integer_null(JournalLines::LoanId))
            .foreign_key(
                ForeignKey::create()
                    .from(JournalLines::Table, JournalLines::EntryId)
                    .to(JournalEntries::Table, JournalEntries::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .from(JournalLines::Table, JournalLines::AccountCode)
                    .to(LedgerAccounts::Table, LedgerAccounts::Code),
            )
            .to_owned(),
        Table::create()
            .table(IdempotencyKeys::Table)
            .col(big_pk_auto(IdempotencyKeys::Id))
            .col(big_integer(IdempotencyKeys::UserId))
            .col(string_len(IdempotencyKeys::Key, 200))
            .col(string_len(IdempotencyKeys::Method, 10))
            .col(string_len(IdempotencyKeys::Path, 300))
            .col(string_len(IdempotencyKeys::RequestHash, 64))
            .col(integer(IdempotencyKeys::StatusCode))
            .col(text(IdempotencyKeys::ResponseBody))
            .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create()
            .name("uq_idempotency_user_key")
            .table(IdempotencyKeys::Table)
            .col(IdempotencyKeys::UserId)
            .col(IdempotencyKeys::Key)
            .unique()
            .to_owned(),
        Index::create()
            .name("idx_journal_lines_entry")
            .table(JournalLines::Table)
            .col(JournalLines::EntryId)
            .to_owned(),
        Index::create()
            .name("idx_journal_lines_account_loan")
            .table(JournalLines::Table)
            .col(JournalLines::AccountCode)
            .col(JournalLines::LoanId)
            .to_owned(),
        Index::create()
            .name("idx_journal_lines_loan")
            .table(JournalLines::Table)
            .col(JournalLines::LoanId)
            .to_owned(),
        Index::create()
            .name("idx_journal_entries_date")
            .table(JournalEntries::Table)
            .col(JournalEntries::EntryDate)
            .to_owned(),
        Index::create()
            .name("idx_loan_transactions_loan")
            .table(LoanTransactions::Table)
            .col(LoanTransactions::LoanId)
            .col(LoanTransactions::ValueDate)
            .to_owned(),
        Index::create()
            .name("idx_loans_cooperative")
            .table(Loans::Table)
            .col(Loans::CooperativeId)
            .to_owned(),
        Index::create()
            .name("idx_loans_status")
            .table(Loans::Table)
            .col(Loans::Status)
            .to_owned(),
        Index::create()
            .name("idx_applications_cooperative")
            .table(Applications::Table)
            .col(Applications::CooperativeId)
            .to_owned(),
        Index::create()
            .name("idx_collateral_application")
            .table(CollateralItems::Table)
            .col(CollateralItems::ApplicationId)
            .to_owned(),
    ]
}

async fn seed_chart(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut insert = Query::insert();
    insert.into_table(LedgerAccounts::Table).columns([
        LedgerAccounts::Code,
        LedgerAccounts::NameVi,
        LedgerAccounts::NameEn,
        LedgerAccounts::Kind,
        LedgerAccounts::NormalSide,
    ]);
    for (code, vi, en, kind, side) in CHART {
        insert.values_panic([
            (*code).into(),
            (*vi).into(),
            (*en).into(),
            (*kind).into(),
            (*side).into(),
        ]);
    }
    manager.exec_stmt(insert).await
}

/// On PostgreSQL the database itself refuses to edit or delete the journal.
async fn forbid_journal_changes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared(
        "CREATE OR REPLACE FUNCTION coopfund_journal_is_append_only() RETURNS trigger AS $$
         BEGIN
           RAISE EXCEPTION 'the journal is append-only: % on % is refused; post a reversal instead', TG_OP, TG_TABLE_NAME;
         END;
         $$ LANGUAGE plpgsql",
    )
    .await?;
    for table in ["journal_entries", "journal_lines"] {
        db.execute_unprepared(&format!(
            "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
             FOR EACH ROW EXECUTE FUNCTION coopfund_journal_is_append_only()"
        ))
        .await?;
    }
    Ok(())
}

#[derive(DeriveIden)]
enum Coop {
    #[sea_orm(iden = "cooperatives")]
    Table,
    Id,
}

#[derive(DeriveIden)]
enum FundState {
    Table,
    Id,
    BusinessDate,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CharterCapitalContributions {
    Table,
    Id,
    AmountVnd,
    ContributedOn,
    Reference,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum LedgerAccounts {
    Table,
    Code,
    NameVi,
    NameEn,
    Kind,
    NormalSide,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Code,
    Name,
    Description,
    RatePercent,
    Methods,
    PeriodMonths,
    MinAmountVnd,
    MaxAmountVnd,
    MinInstallments,
    MaxInstallments,
    MaxPrincipalGrace,
    DayCount,
    InstallmentUnitVnd,
    OverdueMultiplier,
    LateRatePercent,
    AllocationOrder,
    PrepaymentRule,
    CollateralFreeLimitVnd,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    Number,
    CooperativeId,
    ProductId,
    AmountVnd,
    Installments,
    PeriodMonths,
    Method,
    PrincipalGrace,
    Purpose,
    ProjectTotalVnd,
    OwnCapitalVnd,
    NoBadDebtDeclared,
    Documents,
    Status,
    CreatedBy,
    AppraisedBy,
    AppraisalNote,
    ApprovedBy,
    CouncilApprovedBy,
    DecisionReason,
    SubmittedAt,
    DecidedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CollateralItems {
    Table,
    Id,
    ApplicationId,
    Kind,
    Description,
    AppraisedValueVnd,
    DiscountRatePercent,
}

#[derive(DeriveIden)]
enum Loans {
    Table,
    Id,
    Number,
    ApplicationId,
    CooperativeId,
    ProductId,
    OfficerId,
    PrincipalVnd,
    RatePercent,
    Method,
    Installments,
    PeriodMonths,
    PrincipalGrace,
    DayCount,
    InstallmentUnitVnd,
    FirstDueOn,
    OverdueMultiplier,
    LateRatePercent,
    AllocationOrder,
    PrepaymentRule,
    CollateralValueVnd,
    Status,
    ContractNumber,
    SignedOn,
    FirstDisbursedOn,
    ClosedOn,
    DisbursedVnd,
    InTermPrincipalVnd,
    OverduePrincipalVnd,
    AdvanceVnd,
    Dpd,
    DebtGroup,
    RestructureCount,
    BalancesAsOf,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LoanTransactions {
    Table,
    Id,
    LoanId,
    Kind,
    ValueDate,
    AmountVnd,
    Reference,
    RepaymentKind,
    ReversesId,
    Reason,
    Details,
    ApprovedBy,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JournalEntries {
    Table,
    Id,
    EntryDate,
    Kind,
    Description,
    LoanId,
    TransactionId,
    ReversesEntryId,
    BusinessKey,
    CreatedBy,
    PostedAt,
}

#[derive(DeriveIden)]
enum JournalLines {
    Table,
    Id,
    EntryId,
    AccountCode,
    DebitVnd,
    CreditVnd,
    LoanId,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Id,
    UserId,
    Key,
    Method,
    Path,
    RequestHash,
    StatusCode,
    ResponseBody,
    CreatedAt,
}
