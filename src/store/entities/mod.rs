//! sea-orm entities: one module per table. Money columns are `i64` đồng (`*_vnd`), rates are
//! exact decimal strings; see the migrations crate for why.

/// The end of an entity that declares no relations (the code joins by ids): the empty `Relation`
/// and the default `ActiveModelBehavior`, written once.
macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod api_token;
pub mod application;
pub mod application_document;
pub mod audit_record;
pub mod backup_run;
pub mod bank_statement;
pub mod bank_statement_line;
pub mod calendar_holiday;
pub mod calendar_weekly_rule;
pub mod charter_capital_contribution;
pub mod cob_run;
pub mod collateral_item;
pub mod cooperative;
pub mod cooperative_bank_account;
pub mod cooperative_notification_setting;
pub mod cooperative_profile;
pub mod fund_state;
pub mod idempotency_key;
pub mod journal_entry;
pub mod journal_line;
pub mod ledger_account;
pub mod loan;
pub mod loan_book;
pub mod loan_follow_up;
pub mod loan_snapshot;
pub mod loan_transaction;
pub mod outbox_message;
pub mod product;
pub mod user;
