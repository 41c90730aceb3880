//! The demo fund: a realistic fund a newcomer can explore (`coopfund serve --demo`) and a large one
//! for benchmarks (`coopfund demo --loans N`).
//!
//! ## The explorable demo ([`load_explorable`])
//! About thirty cooperatives of the province's districts (`fund.districts`) with Vietnamese names,
//! four products (seasonal working capital, monthly equal principal; machinery, quarterly annuity;
//! OCOP, bullet with quarterly interest; a short-term product with a monthly rate, `per_period`),
//! 300 billion đồng of charter capital, about forty applications in every state (draft, submitted,
//! appraised, awaiting the council, approved, rejected, withdrawn) and about 25 loans of different
//! ages whose histories are on time, late, partial, prepaid, back-dated, reversed (and re-posted),
//! restructured, paid off, defaulted and written off — plus one loan only approved and one only
//! signed. The demo's cooperative user (`htx.tancuong`) has three loans: two paid on time and one
//! behind since about six weeks (14 to 45 days past due), so it can open every overdue amount. One user per role is created with a fixed password ([`DemoCredentials`], printed at start).
//!
//! **Everything goes through the real use cases** (`app::*`) with real [`Caller`]s for the demo
//! users, so the audit trail, the journal, the idempotency keys and the loan numbers are exactly those
//! the API would have produced. Only time is simulated: the business date is first moved about eight
//! months back, then forward event by event with [`crate::app::fund::set_business_date`] (demo seeding only — in
//! production the date moves only by close of business), and for the last
//! [`COB_WINDOW_DAYS`] days up to yesterday by the real close of business
//! ([`crate::app::cob::run_through`]), so `cob_runs`, accruals, DPD, debt groups and reminders are current when the
//! server starts. The books are posted by difference, so a jump of the date is caught up by the next
//! posting on that loan or by the close of business. At the end [`fn@crate::app::ledger::verify`] must pass.
//!
//! ## The bulk demo ([`load_bulk`], in [`bulk`])
//! For benchmarks: `N` loans (one per application, approved, signed and disbursed, with a few
//! repayments), generated in memory, folded by the engine, and inserted in large multi-row batches.
//! It writes one audit record for the whole load, not one per row — see [`bulk`].
//!
//! ## A real fund is never polluted
//! Both refuse (409 `demo_database_not_empty`, exit 2 at the command line) when the database already
//! holds a cooperative or a loan.

pub mod bulk;
pub(crate) mod explorable;
pub mod names;

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use serde::Serialize;

pub use bulk::{load_bulk, BulkSummary};
pub use explorable::{load_explorable, DemoSummary, COB_WINDOW_DAYS};

use crate::{
    app::{fund, Caller},
    error::{AppError, AppResult, ErrorKind, Localized},
    store::entities::{cooperative, loan},
};

/// The admin's password when `serve --demo` creates the admin (and `COOPFUND_ADMIN_PASSWORD` is unset).
pub const DEMO_ADMIN_PASSWORD: &str = "demo-admin-2026";

/// The account number `config/default.toml` ships: a placeholder, never a real account, so a fund
/// that forgets to set its own shows cooperatives an obviously wrong number rather than someone
/// else's account. `serve` warns at start while it is in force (outside the demo).
pub const PLACEHOLDER_BANK_ACCOUNT_NUMBER: &str = "0000000000000";

/// The demo fund's own account at Agribank Thái Nguyên (NAPAS BIN 970405): made up, in the bank's
/// 13-digit form, so the VietQR code and the transfer details of the demo read like a real fund's.
/// It belongs to the demo, not to `config/default.toml`: the embedded defaults are also what a
/// real fund starts from, and a plausible number there could be mistaken for the fund's own.
pub const DEMO_BANK_ACCOUNT_NUMBER: &str = "8500205012026";
/// The NAPAS BIN of the demo account's bank (Agribank).
pub const DEMO_BANK_BIN: &str = "970405";

/// Whether the configuration still holds the shipped placeholder account.
pub fn has_placeholder_bank_account(settings: &crate::config::Settings) -> bool {
    settings.mail.bank_account_number == PLACEHOLDER_BANK_ACCOUNT_NUMBER
}

/// Gives the demo fund its own bank account, unless the configuration names one: `serve --demo`,
/// `coopfund demo` and the browser tests' demo fund call it before anything is rendered or queued.
pub fn use_demo_bank_account(settings: &mut crate::config::Settings) {
    if has_placeholder_bank_account(settings) {
        settings.mail.bank_account_number = DEMO_BANK_ACCOUNT_NUMBER.into();
        settings.mail.bank_bin = DEMO_BANK_BIN.into();
    }
}

/// One demo account as printed at start.
#[derive(Debug, Clone, Serialize)]
pub struct DemoCredentials {
    pub username: String,
    /// The fixed demo password (`None` for an admin that existed before the demo: its own password).
    pub password: Option<String>,
    pub role: String,
    pub full_name: String,
}

/// The credentials as a table for the terminal.
pub fn credentials_table(users: &[DemoCredentials]) -> String {
    let mut out = format!(
        "  {:<20} {:<12} {:<22} {}\n",
        "username", "role", "password", "name"
    );
    for user in users {
        let password = user.password.as_deref().unwrap_or("(your admin password)");
        out.push_str(&format!(
            "  {:<20} {:<12} {:<22} {}\n",
            user.username, user.role, password, user.full_name
        ));
    }
    out
}

/// Refuses (409) unless the database holds no cooperative and no loan.
pub async fn ensure_empty<C: ConnectionTrait>(conn: &C) -> AppResult<()> {
    let cooperatives = cooperative::Entity::find().count(conn).await?;
    let loans = loan::Entity::find().count(conn).await?;
    if cooperatives > 0 || loans > 0 {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "demo_database_not_empty",
            Localized::new(
                format!(
                    "Cơ sở dữ liệu đã có {cooperatives} hợp tác xã và {loans} khoản vay: không nạp dữ liệu mẫu vào quỹ thật. Hãy dùng một cơ sở dữ liệu mới (ví dụ COOPFUND__DATABASE__URL=sqlite://data/demo.db?mode=rwc)."
                ),
                format!(
                    "The database already holds {cooperatives} cooperative(s) and {loans} loan(s): the demo is never loaded into a real fund. Use a fresh database (e.g. COOPFUND__DATABASE__URL=sqlite://data/demo.db?mode=rwc)."
                ),
            ),
        ));
    }
    Ok(())
}

/// The admin account as a [`Caller`] (the demo acts as the real admin, so its trail names it).
async fn admin_caller<C: ConnectionTrait>(conn: &C) -> AppResult<Caller> {
    use crate::store::entities::user;
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let admin = user::Entity::find()
        .filter(user::Column::Role.eq(crate::auth::Role::Admin.as_str()))
        .order_by_asc(user::Column::Id)
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("no admin account: run the bootstrap first"))
        })?;
    Caller::account(admin.id, admin.username, crate::auth::Role::Admin, None)
}

/// The business date as a helper for both modes.
async fn business_date<C: ConnectionTrait>(conn: &C) -> AppResult<chrono::NaiveDate> {
    fund::business_date(conn).await
}
