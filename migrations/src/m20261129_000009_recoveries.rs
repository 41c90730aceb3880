//! After a write-off (Decree 45/2021 Art 29, DOMAIN.md §9): account 711 other income, where written-off
//! principal recovered is credited, and `loan_follow_ups`, the actions officers take to pursue a written-off
//! debt (a visit, a letter, a legal case), append-only like the rest of a loan's history.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000002_lending::LedgerAccounts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut insert = Query::insert();
        insert
            .into_table(LedgerAccounts::Table)
            .columns([
                LedgerAccounts::Code,
                LedgerAccounts::NameVi,
                LedgerAccounts::NameEn,
                LedgerAccounts::Kind,
                LedgerAccounts::NormalSide,
            ])
            .values_panic([
                "711".into(),
                "Thu nhập khác (thu hồi nợ đã xử lý rủi ro)".into(),
                "Other income (recoveries of written-off loans)".into(),
                "income".into(),
                "credit".into(),
            ]);
        manager.exec_stmt(insert).await?;
        manager
            .create_table(
                Table::create()
                    .table(LoanFollowUps::Table)
                    .col(big_pk_auto(LoanFollowUps::Id))
                    .col(big_integer(LoanFollowUps::LoanId))
                    .col(string_len(LoanFollowUps::Kind, 20))
                    .col(date(LoanFollowUps::ActedOn))
                    .col(text(LoanFollowUps::Note))
                    .col(big_integer_null(LoanFollowUps::CreatedBy))
                    .col(timestamp_with_time_zone(LoanFollowUps::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoanFollowUps::Table, LoanFollowUps::LoanId)
                            .to(Loans::Table, Loans::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_loan_follow_ups_loan")
                    .table(LoanFollowUps::Table)
                    .col(LoanFollowUps::LoanId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoanFollowUps::Table).to_owned())
            .await?;
        let mut delete = Query::delete();
        delete
            .from_table(LedgerAccounts::Table)
            .and_where(Expr::col(LedgerAccounts::Code).eq("711"));
        manager.exec_stmt(delete).await
    }
}

#[derive(DeriveIden)]
enum LoanFollowUps {
    Table,
    Id,
    LoanId,
    Kind,
    ActedOn,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Loans {
    Table,
    Id,
}
