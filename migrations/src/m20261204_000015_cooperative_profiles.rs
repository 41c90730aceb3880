//! What the province's resolution on collective economy measures about a borrower (issue 11 item 4):
//! its sector, its OCOP products, its members and its rating, as a history. Each change is a new row
//! effective from a date (append-only, like the rest of the fund's records), so a report for a past
//! year reads the profile in force at that year's end, and the trail of changes stays readable.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CooperativeProfiles::Table)
                    .col(big_pk_auto(CooperativeProfiles::Id))
                    .col(big_integer(CooperativeProfiles::CooperativeId))
                    .col(date(CooperativeProfiles::EffectiveOn))
                    .col(string_len(CooperativeProfiles::Sector, 40))
                    .col(integer(CooperativeProfiles::MemberCount))
                    // A JSON array of {"name": …, "stars": 3..=5}: OCOP products and their rating.
                    .col(text(CooperativeProfiles::OcopProducts))
                    .col(string_len_null(CooperativeProfiles::Rating, 20))
                    .col(integer_null(CooperativeProfiles::RatedYear))
                    .col(big_integer_null(CooperativeProfiles::RecordedBy))
                    .col(timestamp_with_time_zone(CooperativeProfiles::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                CooperativeProfiles::Table,
                                CooperativeProfiles::CooperativeId,
                            )
                            .to(Cooperatives::Table, Cooperatives::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_cooperative_profiles_cooperative")
                    .table(CooperativeProfiles::Table)
                    .col(CooperativeProfiles::CooperativeId)
                    .col(CooperativeProfiles::EffectiveOn)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CooperativeProfiles::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CooperativeProfiles {
    Table,
    Id,
    CooperativeId,
    EffectiveOn,
    Sector,
    MemberCount,
    OcopProducts,
    Rating,
    RatedYear,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Cooperatives {
    Table,
    Id,
}
