//! When a name with no account last failed to log in, so that old rows of `login_failures` can be
//! pruned: without it every username ever tried stays in the table (an attacker spraying names
//! would grow it without bound). Rows from before this migration get NULL and go at the next prune.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261129_000010_login_failures::LoginFailures;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LoginFailures::Table)
                    .add_column(timestamp_with_time_zone_null(LastFailedAt::LastFailedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LoginFailures::Table)
                    .drop_column(LastFailedAt::LastFailedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum LastFailedAt {
    LastFailedAt,
}
