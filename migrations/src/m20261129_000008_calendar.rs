//! The fund's calendar (issue 17): dated holidays and the weekly days off, each with the business
//! date from which it is in force, so that a change never rewrites a day already closed.
//!
//! - `calendar_holidays`: one row per date ever entered. Removing a holiday keeps the row
//!   (`removed_at`), so the configuration does not seed it again at the next start and the history
//!   stays readable; entering it again clears `removed_at`.
//! - `calendar_weekly_rules`: the weekly days off (`"sat,sun"`), each in force from `effective_from`
//!   until the next rule.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CalendarHolidays::Table)
                    .col(big_pk_auto(CalendarHolidays::Id))
                    .col(date(CalendarHolidays::HolidayOn).unique_key())
                    .col(string_len(CalendarHolidays::Name, 200))
                    .col(string_len(CalendarHolidays::Source, 20))
                    .col(date(CalendarHolidays::EnteredOnBusinessDate))
                    .col(string_len(CalendarHolidays::EnteredBy, 100))
                    .col(timestamp_with_time_zone(CalendarHolidays::CreatedAt))
                    .col(timestamp_with_time_zone(CalendarHolidays::UpdatedAt))
                    .col(timestamp_with_time_zone_null(CalendarHolidays::RemovedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CalendarWeeklyRules::Table)
                    .col(big_pk_auto(CalendarWeeklyRules::Id))
                    .col(date(CalendarWeeklyRules::EffectiveFrom).unique_key())
                    .col(string_len(CalendarWeeklyRules::DaysOff, 60))
                    .col(timestamp_with_time_zone(CalendarWeeklyRules::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CalendarWeeklyRules::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CalendarHolidays::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CalendarHolidays {
    Table,
    Id,
    HolidayOn,
    Name,
    Source,
    EnteredOnBusinessDate,
    EnteredBy,
    CreatedAt,
    UpdatedAt,
    RemovedAt,
}

#[derive(DeriveIden)]
enum CalendarWeeklyRules {
    Table,
    Id,
    EffectiveFrom,
    DaysOff,
    CreatedAt,
}
