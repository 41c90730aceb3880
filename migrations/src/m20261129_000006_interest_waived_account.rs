//! Memo account 0043: interest forgiven by a restructuring. DOMAIN.md §7: a restructuring forgives nothing
//! unless it says so with an amount, and that amount is posted to its own account (Dr 0043 against 0041 for the
//! contractual interest held off balance, against 0090 for overdue and late interest that was never booked).

use sea_orm_migration::prelude::*;

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
                "0043".into(),
                "Lãi được miễn, giảm khi cơ cấu lại nợ (ngoại bảng)".into(),
                "Interest forgiven on restructuring (memo)".into(),
                "memo".into(),
                "debit".into(),
            ]);
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut delete = Query::delete();
        delete
            .from_table(LedgerAccounts::Table)
            .and_where(Expr::col(LedgerAccounts::Code).eq("0043"));
        manager.exec_stmt(delete).await
    }
}
