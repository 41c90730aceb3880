//! Accounts, tokens, cooperatives (the borrowers) and the audit trail.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Cooperatives::Table)
                    .col(big_pk_auto(Cooperatives::Id))
                    .col(string_len_uniq(Cooperatives::RegistrationCode, 50))
                    .col(string_len(Cooperatives::Name, 200))
                    .col(string_len(Cooperatives::Kind, 40))
                    .col(string_len(Cooperatives::District, 100))
                    .col(string_len(Cooperatives::Commune, 100))
                    .col(string_len(Cooperatives::Address, 300))
                    .col(string_len(Cooperatives::LegalRepresentative, 200))
                    .col(string_len(Cooperatives::Phone, 30))
                    .col(string_len(Cooperatives::Email, 254))
                    .col(string_len(Cooperatives::Language, 5))
                    .col(integer(Cooperatives::MemberCount))
                    .col(big_integer(Cooperatives::CharterCapitalVnd))
                    .col(date(Cooperatives::FoundedOn))
                    .col(string_len_null(Cooperatives::RelatedGroup, 100))
                    .col(big_integer_null(Cooperatives::OfficerId))
                    .col(integer(Cooperatives::Version))
                    .col(timestamp_with_time_zone(Cooperatives::CreatedAt))
                    .col(timestamp_with_time_zone(Cooperatives::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_len_uniq(Users::Username, 64))
                    .col(string_len(Users::FullName, 200))
                    .col(string_len_null(Users::Email, 254))
                    .col(string_len(Users::Role, 20))
                    .col(big_integer_null(Users::CooperativeId))
                    .col(string_len(Users::Language, 5))
                    .col(text(Users::PasswordHash))
                    .col(boolean(Users::Disabled))
                    .col(integer(Users::FailedLogins))
                    .col(timestamp_with_time_zone_null(Users::LockedUntil))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::CooperativeId)
                            .to(Cooperatives::Table, Cooperatives::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(big_pk_auto(ApiTokens::Id))
                    .col(big_integer(ApiTokens::UserId))
                    .col(string_len_uniq(ApiTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone(ApiTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiTokens::Table, ApiTokens::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditRecords::Table)
                    .col(big_pk_auto(AuditRecords::Id))
                    .col(timestamp_with_time_zone(AuditRecords::At))
                    .col(big_integer_null(AuditRecords::ActorId))
                    .col(string_len(AuditRecords::Actor, 100))
                    .col(string_len(AuditRecords::Action, 64))
                    .col(string_len(AuditRecords::EntityType, 40))
                    .col(string_len(AuditRecords::EntityId, 64))
                    .col(text_null(AuditRecords::Before))
                    .col(text_null(AuditRecords::After))
                    .col(string_len_null(AuditRecords::RequestId, 64))
                    // Reserved for a hash chain over the canonical record (sha256 hex of the
                    // previous hash and this row's fields); nullable until it is switched on.
                    .col(string_len_null(AuditRecords::ChainHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_entity")
                    .table(AuditRecords::Table)
                    .col(AuditRecords::EntityType)
                    .col(AuditRecords::EntityId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_cooperatives_name")
                    .table(Cooperatives::Table)
                    .col(Cooperatives::Name)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditRecords::Table.into_iden(),
            ApiTokens::Table.into_iden(),
            Users::Table.into_iden(),
            Cooperatives::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Cooperatives {
    Table,
    Id,
    RegistrationCode,
    Name,
    Kind,
    District,
    Commune,
    Address,
    LegalRepresentative,
    Phone,
    Email,
    Language,
    MemberCount,
    CharterCapitalVnd,
    FoundedOn,
    RelatedGroup,
    OfficerId,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Username,
    FullName,
    Email,
    Role,
    CooperativeId,
    Language,
    PasswordHash,
    Disabled,
    FailedLogins,
    LockedUntil,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditRecords {
    Table,
    Id,
    At,
    ActorId,
    Actor,
    Action,
    EntityType,
    EntityId,
    Before,
    After,
    RequestId,
    ChainHash,
}
