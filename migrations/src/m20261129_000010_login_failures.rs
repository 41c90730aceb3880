//! Failed logins for usernames that have no account, so that a locked unknown name answers exactly
//! like a locked real one (429 after the same number of failures): otherwise the lockout tells an
//! attacker which usernames exist. Real accounts keep their count in `users`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .if_not_exists()
                    .col(string(LoginFailures::Username).primary_key())
                    .col(integer(LoginFailures::FailedLogins))
                    .col(timestamp_with_time_zone_null(LoginFailures::LockedUntil))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginFailures::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum LoginFailures {
    Table,
    Username,
    FailedLogins,
    LockedUntil,
}
