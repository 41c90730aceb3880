//! The explorable demo: a story of about eight months told through the real use cases (see the
//! module docs of [`crate::demo`]). Every step is a plan row below; the plan is turned into dated
//! actions, sorted, and played with the business date following along.

use chrono::{Duration, NaiveDate};
use coopfund_domain::{
    add_months_clamped,
    ids::LoanId,
    LoanStatus,
    Method::{self, Annuity, Bullet, EqualPrincipal},
    RepaymentKind, RestructureKind, TransactionKind, Vnd,
};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Value};

use super::{admin_caller, business_date, ensure_empty, names, DemoCredentials};
use crate::{
    app::{
        applications::{self, Appraisal, NewApplication, NewCollateral, Recommendation, Status},
        charter_capital::{self, NewContribution},
        cob::{self, Trigger},
        cooperatives::{self, Contact, Location, NewCooperative},
        fund,
        idempotency::Idempotent,
        ledger,
        loans::{self, Disburse, Recover, Repay, Restructure, Reverse, SignContract, WriteOff},
        products,
        users::{self, NewAccount},
        Caller,
    },
    auth::Role,
    error::{AppError, AppResult, Lang},
    state::AppState,
};

/// The last days up to yesterday that are closed by the real close of business.
pub const COB_WINDOW_DAYS: i64 = 30;
/// How far back the story starts.
const STORY_DAYS: i64 = 240;
const MILLION: i64 = 1_000_000;
/// A [`Story::Behind`] loan pays nothing that falls due in the last this many days.
const BEHIND_SINCE_DAYS: i64 = 45;

/// What the explorable demo loaded.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    /// One account per role (and the first cooperative's), with the passwords to print.
    pub users: Vec<DemoCredentials>,
    pub cooperatives: usize,
    pub products: usize,
    pub applications: usize,
    pub loans: usize,
    /// The business date after loading (today).
    pub business_date: NaiveDate,
    /// Days closed by the real close of business.
    pub cob_days: usize,
    /// `ledger verify`'s report (it passed, or the load failed).
    pub verify: ledger::VerifyReport,
}

/// The demo's staff, each a real account acting through the use cases.
struct Cast {
    admin: Caller,
    lan: Caller,
    minh: Caller,
    giamdoc: Caller,
    hoidong: Caller,
    hoa: Caller,
    cooperative: Option<Caller>,
}

/// How a loan's story goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Story {
    /// Every installment paid on its due date.
    OnTime,
    /// Every installment paid 6-19 days late, with the overdue and late interest.
    Late,
    /// Half of each installment paid.
    Partial,
    /// On time, and 30% of the principal prepaid after the second installment.
    Prepaid,
    /// On time, but the second payment is recorded nine days after its value date.
    BackDated,
    /// On time; the second payment is first posted with a wrong amount, reversed the next day and re-posted.
    Reversed,
    /// Pays twice, stops, and is restructured (extension) about forty days overdue; on time after.
    Restructured,
    /// On time three times, then paid off with the payoff quote.
    Closed,
    /// Half of the first installment, then nothing.
    Defaulted,
    /// On time until about six weeks before today, then nothing: the latest installments are
    /// overdue (14 to 45 days past due, whatever the calendar), with overdue principal, the unpaid
    /// interest of those installments, overdue interest and late interest all owed today.
    Behind,
    /// Nothing paid; written off by the risk council.
    WrittenOff,
    /// Disbursed recently: nothing due yet.
    Fresh,
    /// Approved; the contract is not signed yet.
    ApprovedOnly,
    /// Signed; not disbursed yet.
    SignedOnly,
}

/// What a cooperative asks for: which borrower and product (indexes into the demo's lists), how
/// much, over how many installments, repaid how.
#[derive(Debug, Clone, Copy)]
struct Ask {
    coop: usize,
    product: usize,
    amount_mvnd: i64,
    installments: i64,
    method: Method,
}

const fn ask(
    coop: usize,
    product: usize,
    amount_mvnd: i64,
    installments: i64,
    method: Method,
) -> Ask {
    Ask {
        coop,
        product,
        amount_mvnd,
        installments,
        method,
    }
}

/// One loan of the demo: what was asked for, when it starts (days after the story's start) and its story.
struct LoanPlan {
    ask: Ask,
    start_day: i64,
    story: Story,
}

const fn plan(ask: Ask, start_day: i64, story: Story) -> LoanPlan {
    LoanPlan {
        ask,
        start_day,
        story,
    }
}

/// Products: 0 seasonal (monthly, equal principal), 1 machinery (quarterly annuity), 2 OCOP (bullet,
/// quarterly interest), 3 short-term with a monthly rate (`per_period`).
const LOANS: [LoanPlan; 26] = [
    plan(ask(0, 0, 800, 10, EqualPrincipal), 10, Story::OnTime),
    plan(ask(1, 0, 500, 8, EqualPrincipal), 40, Story::Late),
    plan(ask(2, 1, 2_400, 12, Annuity), 5, Story::OnTime),
    plan(ask(3, 3, 300, 12, Annuity), 30, Story::Partial),
    plan(ask(4, 0, 600, 10, EqualPrincipal), 20, Story::Prepaid),
    plan(ask(5, 2, 900, 4, Bullet), 15, Story::OnTime),
    plan(ask(6, 3, 400, 12, EqualPrincipal), 25, Story::BackDated),
    plan(ask(7, 0, 700, 12, EqualPrincipal), 35, Story::Reversed),
    plan(
        ask(8, 0, 1_200, 12, EqualPrincipal),
        12,
        Story::Restructured,
    ),
    plan(ask(9, 3, 200, 6, Annuity), 8, Story::Closed),
    plan(ask(10, 0, 350, 9, EqualPrincipal), 45, Story::Defaulted),
    plan(ask(11, 3, 250, 12, Annuity), 20, Story::WrittenOff),
    plan(ask(12, 0, 450, 6, EqualPrincipal), 222, Story::Fresh),
    plan(ask(13, 1, 3_000, 16, Annuity), 60, Story::OnTime),
    plan(ask(14, 2, 600, 4, Bullet), 90, Story::Late),
    plan(ask(15, 3, 150, 12, EqualPrincipal), 100, Story::OnTime),
    plan(ask(16, 0, 1_000, 10, EqualPrincipal), 75, Story::Partial),
    plan(ask(17, 1, 800, 12, Annuity), 130, Story::OnTime),
    plan(ask(18, 0, 550, 8, EqualPrincipal), 150, Story::BackDated),
    plan(ask(19, 3, 300, 10, Annuity), 170, Story::Late),
    plan(ask(20, 2, 1_200, 4, Bullet), 215, Story::Fresh),
    plan(ask(21, 0, 400, 6, EqualPrincipal), 190, Story::Reversed),
    plan(ask(22, 1, 900, 8, Annuity), 232, Story::ApprovedOnly),
    plan(ask(23, 3, 200, 12, Annuity), 234, Story::SignedOnly),
    plan(ask(0, 2, 500, 4, Bullet), 180, Story::OnTime),
    // HTX Chè Tân Cương's seasonal loan for the spring tea, behind since a frost: the demo's own
    // cooperative user has an overdue loan to open ("how is this computed?" on every overdue amount).
    plan(ask(0, 0, 600, 10, EqualPrincipal), 60, Story::Behind),
];

/// Applications that do not become loans, by the state they are left in.
const OPEN_APPLICATIONS: [(Ask, Status); 15] = [
    // (what is asked, final state)
    (ask(24, 0, 300, 6, EqualPrincipal), Status::Draft),
    (ask(25, 3, 120, 12, Annuity), Status::Draft),
    (ask(0, 0, 200, 6, EqualPrincipal), Status::Draft), // by the cooperative's own user
    (ask(26, 1, 1_800, 12, Annuity), Status::Submitted),
    (ask(27, 0, 400, 8, EqualPrincipal), Status::Submitted),
    (ask(28, 2, 700, 4, Bullet), Status::Submitted),
    (ask(29, 3, 90, 6, Annuity), Status::Appraised),
    (ask(24, 1, 600, 8, Annuity), Status::Appraised),
    (ask(25, 0, 350, 10, EqualPrincipal), Status::Appraised),
    (ask(28, 1, 4_000, 20, Annuity), Status::AwaitingCouncil),
    (ask(26, 2, 1_500, 4, Bullet), Status::AwaitingCouncil),
    (ask(30, 3, 60, 6, Annuity), Status::Rejected),
    (ask(27, 1, 2_000, 12, Annuity), Status::Rejected),
    (ask(29, 0, 250, 6, EqualPrincipal), Status::Withdrawn),
    (ask(30, 0, 100, 6, EqualPrincipal), Status::Withdrawn),
];

/// What to do on a date.
#[derive(Debug, Clone, Copy)]
enum Action {
    /// Apply, appraise, approve (and the council), sign and disburse loan `plan` — as far as its story goes.
    Originate(usize),
    /// Take an application that stays open (or is refused) to its final state.
    Application(usize),
    /// Post a repayment on loan `plan`, valued on `value_date`.
    Repay {
        plan: usize,
        amount: Amount,
        value_date: NaiveDate,
    },
    /// Reverse loan `plan`'s latest repayment that is not reversed.
    ReverseLast(usize),
    /// Restructure loan `plan` (extension over `installments` new monthly installments).
    Restructure(usize),
    /// Write loan `plan` off.
    WriteOff(usize),
    /// Record money recovered on written-off loan `plan`: a fifth of the principal under follow-up.
    Recover(usize),
}

/// How much a repayment is, decided when it is posted from the loan as it then stands.
#[derive(Debug, Clone, Copy)]
enum Amount {
    /// The next installment's unpaid principal and interest.
    Due,
    /// What is overdue with its overdue and late interest (a late payment).
    Overdue,
    /// `percent` of the next installment.
    PercentOfDue(i64),
    /// A prepayment of `percent` of the approved principal.
    PrepayPercent(i64),
    /// The payoff quote: closes the loan.
    Payoff,
}

/// Loads the explorable demo into `state`'s database; the admin must exist. Refuses a database with
/// cooperatives or loans. Fails unless `ledger verify` passes at the end.
pub async fn load_explorable(state: &AppState) -> AppResult<DemoSummary> {
    let db = &state.db;
    ensure_empty(db).await?;
    let admin = admin_caller(db).await?;
    let today = business_date(db).await?;
    let start = today - Duration::days(STORY_DAYS);
    // Demo seeding: the story starts eight months ago (nothing exists yet, so nothing is re-dated).
    fund::set_business_date(db, start, state.ctx.now()).await?;
    let mut credentials = vec![DemoCredentials {
        username: admin.name().to_string(),
        password: None,
        role: "admin".into(),
        full_name: "Quản trị hệ thống".into(),
    }];
    let mut cast = create_staff(state, admin, &mut credentials).await?;
    contribute(
        state,
        &cast.admin,
        start,
        300_000,
        "QĐ 512/QĐ-UBND: UBND tỉnh cấp vốn điều lệ cho Quỹ",
    )
    .await?;
    let product_ids = create_products(state, &cast.admin).await?;
    let coop_ids = create_cooperatives(state, &cast, start).await?;
    let coop_user =
        create_cooperative_user(state, &cast.admin, coop_ids[0], &mut credentials).await?;
    cast.cooperative = Some(coop_user);
    let mut player = Player {
        state,
        cast,
        product_ids,
        coop_ids,
        start,
        today,
        loan_ids: vec![None; LOANS.len()],
        keys: 0,
        cob_days: 0,
    };
    player.play().await?;
    let verify = ledger::verify(db, &state.ctx.policy.classification).await?;
    if !verify.passed() {
        return Err(AppError::internal(anyhow::anyhow!(
            "the demo fund's books do not verify:\n{}",
            verify.render()
        )));
    }
    Ok(DemoSummary {
        users: credentials,
        cooperatives: names::COOPERATIVES.len(),
        products: PRODUCTS,
        applications: LOANS.len() + OPEN_APPLICATIONS.len(),
        loans: LOANS.len(),
        business_date: business_date(db).await?,
        cob_days: player.cob_days,
        verify,
    })
}

async fn create_user(
    state: &AppState,
    admin: &Caller,
    (username, role, full_name): (&str, Role, &str),
    cooperative_id: Option<i64>,
    credentials: &mut Vec<DemoCredentials>,
) -> AppResult<Caller> {
    let password = format!("demo-{}-2026", role.as_str());
    let input = NewAccount {
        username: username.into(),
        password: password.clone(),
        role,
        full_name: Some(full_name.into()),
        email: Some(format!("{username}@example.vn")),
        cooperative_id: cooperative_id.map(Into::into),
        language: Lang::Vi,
    };
    let created = users::create(&state.ctx, admin, input).await?;
    credentials.push(DemoCredentials {
        username: created.username.clone(),
        password: Some(password),
        role: role.as_str().into(),
        full_name: full_name.into(),
    });
    Caller::account(created.id, created.username, role, cooperative_id)
}

async fn create_staff(
    state: &AppState,
    admin: Caller,
    credentials: &mut Vec<DemoCredentials>,
) -> AppResult<Cast> {
    let lan = create_user(
        state,
        &admin,
        (
            "officer.lan",
            Role::Officer,
            "Nguyễn Thị Lan (cán bộ tín dụng)",
        ),
        None,
        credentials,
    )
    .await?;
    let minh = create_user(
        state,
        &admin,
        (
            "officer.minh",
            Role::Officer,
            "Trần Văn Minh (cán bộ thẩm định)",
        ),
        None,
        credentials,
    )
    .await?;
    let giamdoc = create_user(
        state,
        &admin,
        (
            "approver.giamdoc",
            Role::Approver,
            "Lê Quang Huy (Giám đốc Quỹ)",
        ),
        None,
        credentials,
    )
    .await?;
    let hoidong = create_user(
        state,
        &admin,
        (
            "approver.hoidong",
            Role::Approver,
            "Phạm Thu Hà (Hội đồng quản lý)",
        ),
        None,
        credentials,
    )
    .await?;
    let hoa = create_user(
        state,
        &admin,
        ("accountant.hoa", Role::Accountant, "Đỗ Thị Hoa (kế toán)"),
        None,
        credentials,
    )
    .await?;
    create_user(
        state,
        &admin,
        (
            "auditor.kiemsoat",
            Role::Auditor,
            "Hoàng Văn Sơn (kiểm soát viên)",
        ),
        None,
        credentials,
    )
    .await?;
    Ok(Cast {
        admin,
        lan,
        minh,
        giamdoc,
        hoidong,
        hoa,
        cooperative: None,
    })
}

async fn create_cooperative_user(
    state: &AppState,
    admin: &Caller,
    coop_id: i64,
    credentials: &mut Vec<DemoCredentials>,
) -> AppResult<Caller> {
    create_user(
        state,
        admin,
        ("htx.tancuong", Role::Cooperative, "HTX Chè Tân Cương"),
        Some(coop_id),
        credentials,
    )
    .await
}

async fn contribute(
    state: &AppState,
    admin: &Caller,
    on: NaiveDate,
    amount_mvnd: i64,
    reference: &str,
) -> AppResult<()> {
    let input = NewContribution {
        amount_vnd: amount_mvnd * MILLION,
        contributed_on: on,
        reference: reference.into(),
    };
    charter_capital::contribute(&state.ctx, admin, input, None).await?;
    Ok(())
}

const PRODUCTS: usize = 4;

/// The four demo products, as the API would receive them.
pub(super) fn product_inputs() -> [Value; PRODUCTS] {
    [
        json!({
            "code": "VLD-MV", "name": "Vốn lưu động theo mùa vụ",
            "description": "Mua giống, phân bón, vật tư cho vụ sản xuất; trả gốc đều hằng tháng.",
            "rate_percent": "6.0", "methods": ["equal_principal"], "period_months": [1],
            "min_amount_vnd": 100 * MILLION, "max_amount_vnd": 1_500 * MILLION,
            "min_installments": 6, "max_installments": 12, "max_principal_grace": 2,
            "collateral_free_limit_vnd": 300 * MILLION
        }),
        json!({
            "code": "MMTB", "name": "Đầu tư máy móc, thiết bị",
            "description": "Máy sao chè, máy sấy, kho lạnh, máy nông nghiệp; trả góp đều theo quý.",
            "rate_percent": "7.2", "methods": ["annuity"], "period_months": [3],
            "min_amount_vnd": 300 * MILLION, "max_amount_vnd": 5_000 * MILLION,
            "min_installments": 4, "max_installments": 20, "max_principal_grace": 2,
            "installment_unit_vnd": 1000
        }),
        json!({
            "code": "OCOP", "name": "Phát triển sản phẩm OCOP",
            "description": "Bao bì, nhãn mác, chứng nhận cho sản phẩm OCOP; lãi theo quý, gốc trả cuối kỳ.",
            "rate_percent": "5.4", "methods": ["bullet"], "period_months": [3],
            "min_amount_vnd": 200 * MILLION, "max_amount_vnd": 2_000 * MILLION,
            "min_installments": 2, "max_installments": 8
        }),
        json!({
            "code": "NH-THANG", "name": "Cho vay ngắn hạn lãi suất tháng",
            "description": "Lãi suất 0,7%/tháng tính theo kỳ (per_period), trả hằng tháng.",
            "rate_percent": "8.4", "methods": ["annuity", "equal_principal"], "period_months": [1],
            "min_amount_vnd": 50 * MILLION, "max_amount_vnd": 1_000 * MILLION,
            "min_installments": 3, "max_installments": 24, "day_count": "per_period",
            "late_rate_percent": "9"
        }),
    ]
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> AppResult<T> {
    serde_json::from_value(value).map_err(AppError::internal)
}

async fn create_products(state: &AppState, admin: &Caller) -> AppResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(PRODUCTS);
    for body in product_inputs() {
        let body: crate::http::dto::products::ProductBody = from_json(body)?;
        ids.push(
            products::create(&state.ctx, admin, body.try_into()?)
                .await?
                .id,
        );
    }
    Ok(ids)
}

async fn create_cooperatives(
    state: &AppState,
    cast: &Cast,
    today: NaiveDate,
) -> AppResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(names::COOPERATIVES.len());
    for (i, coop) in names::COOPERATIVES.iter().enumerate() {
        let officer = if i % 2 == 0 { &cast.lan } else { &cast.minh };
        let i64_i = i64::try_from(i).unwrap_or(0);
        let input = NewCooperative {
            registration_code: format!("4600{:06}", 120_000 + i64_i * 37),
            name: coop.name.into(),
            kind: coop.kind.into(),
            location: Location {
                district: names::district(&state.settings.fund.districts, coop.district),
                commune: coop.commune.into(),
                address: format!("Xóm {}, {}", 1 + i % 9, coop.commune.to_lowercase()),
            },
            contact: Contact {
                legal_representative: coop.representative.into(),
                phone: format!("0208 3{:02} {:03}", 10 + i, 100 + i * 7),
                email: format!("htx.{}@example.vn", coop.slug),
                language: Lang::Vi,
            },
            member_count: 7 + (i64_i * 13) % 120,
            charter_capital_vnd: (500 + (i64_i * 317) % 4_500) * MILLION,
            founded_on: NaiveDate::from_ymd_opt(
                2008 + i32::try_from(i % 15).unwrap_or(0),
                1 + u32::try_from(i % 12).unwrap_or(0),
                15,
            )
            .unwrap_or(today),
            // HTX Chè Tân Cương, its member household and the tea union are related persons (25% limit).
            related_group: matches!(coop.slug, "tancuong" | "ho-huong" | "lienhiepche")
                .then(|| "Nhóm chè Tân Cương".to_string()),
            officer_id: officer.user().map(|u| u.id),
        };
        ids.push(
            cooperatives::create(&state.ctx, officer, input)
                .await?
                .id
                .get(),
        );
    }
    Ok(ids)
}

const PURPOSES: [&str; PRODUCTS] = [
    "Mua phân bón, giống và vật tư cho vụ chè Xuân",
    "Đầu tư máy sao chè, máy sấy và hệ thống kho lạnh",
    "Hoàn thiện bao bì, nhãn mác và chứng nhận sản phẩm OCOP 4 sao",
    "Bổ sung vốn thu mua nông sản của thành viên",
];

/// The plan being played: the cast, what was created, and the count of repayments posted (their references).
struct Player<'s> {
    state: &'s AppState,
    cast: Cast,
    product_ids: Vec<i64>,
    coop_ids: Vec<i64>,
    start: NaiveDate,
    today: NaiveDate,
    loan_ids: Vec<Option<LoanId>>,
    keys: u64,
    cob_days: usize,
}

impl<'s> Player<'s> {
    fn day(&self, n: i64) -> NaiveDate {
        self.start + Duration::days(n)
    }

    /// Every action of the story, in date order (ties: origination first, then as planned).
    fn actions(&self) -> Vec<(NaiveDate, Action)> {
        let mut actions = Vec::new();
        for (i, loan) in LOANS.iter().enumerate() {
            let disbursed_on = self.day(loan.start_day);
            actions.push((disbursed_on, Action::Originate(i)));
            let period = if loan.ask.product == 1 || loan.ask.product == 2 {
                3
            } else {
                1
            };
            let due = |k: i64| {
                add_months_clamped(disbursed_on, u32::try_from(period * k).unwrap_or(0))
                    .unwrap_or(disbursed_on)
            };
            story_actions(i, loan, &due, self.today, &mut actions);
        }
        for (i, app) in OPEN_APPLICATIONS.iter().enumerate() {
            let offset = i64::try_from(i).unwrap_or(0);
            let (_, target) = app;
            let day = if *target == Status::Draft {
                STORY_DAYS - 3 - offset
            } else {
                120 + offset * 7
            };
            actions.push((self.day(day), Action::Application(i)));
        }
        actions.retain(|(date, _)| *date < self.today);
        actions.sort_by_key(|(date, action)| (*date, !matches!(action, Action::Originate(_))));
        actions
    }

    async fn play(&mut self) -> AppResult<()> {
        for (date, action) in self.actions() {
            self.advance_to(date).await?;
            self.act(date, action).await?;
        }
        self.advance_to(self.today).await
    }

    /// Moves the business date to `date`: by demo seeding before the close-of-business window, by the real
    /// close of business (closing every day up to the day before) inside it.
    async fn advance_to(&mut self, date: NaiveDate) -> AppResult<()> {
        let db = &self.state.db;
        let current = fund::business_date(db).await?;
        if date <= current {
            return Ok(());
        }
        let window_start = self.today - Duration::days(COB_WINDOW_DAYS);
        if date <= window_start {
            return fund::set_business_date(db, date, self.state.ctx.now()).await;
        }
        if current < window_start {
            fund::set_business_date(db, window_start, self.state.ctx.now()).await?;
        }
        let outcome = cob::run_through(
            &self.state.ctx,
            &self.cast.admin,
            date - Duration::days(1),
            Trigger::Cli,
        )
        .await?;
        if !outcome.ran {
            return Err(AppError::internal(anyhow::anyhow!(
                "the demo cannot close business days: {}",
                outcome.message
            )));
        }
        self.cob_days += outcome.runs.len();
        if let Some(failed) = outcome
            .runs
            .iter()
            .find(|r| r.status != cob::RunStatus::Finished)
        {
            return Err(AppError::internal(anyhow::anyhow!(
                "close of business of {} failed: {}",
                failed.business_date,
                failed.message.clone().unwrap_or_default()
            )));
        }
        Ok(())
    }

    async fn act(&mut self, date: NaiveDate, action: Action) -> AppResult<()> {
        match action {
            Action::Originate(i) => self.originate(i, date).await,
            Action::Application(i) => self.open_application(i).await,
            Action::Repay {
                plan,
                amount,
                value_date,
            } => self.repay(plan, amount, value_date).await,
            Action::ReverseLast(plan) => self.reverse_last(plan).await,
            Action::Restructure(plan) => self.restructure(plan, date).await,
            Action::WriteOff(plan) => self.write_off(plan).await,
            Action::Recover(plan) => self.recover(plan, date).await,
        }
    }

    fn application_input(&self, ask: &Ask, with_coop: bool) -> NewApplication {
        let Ask {
            coop,
            product,
            amount_mvnd,
            installments,
            method,
        } = *ask;
        let amount_vnd = amount_mvnd * MILLION;
        let collateral = (amount_vnd > 300 * MILLION).then(|| NewCollateral {
            kind: if product == 1 {
                "machinery".into()
            } else {
                "land_use_right".into()
            },
            description: if product == 1 {
                "Máy móc hình thành từ vốn vay".into()
            } else {
                "Quyền sử dụng đất nông nghiệp, giấy chứng nhận số CĐ 123456".into()
            },
            appraised_value_vnd: amount_vnd * 3 / 2,
            discount_rate_percent: Decimal::from(30),
        });
        NewApplication {
            product_id: self.product_ids[product].into(),
            cooperative_id: with_coop.then(|| self.coop_ids[coop].into()),
            amount_vnd,
            installments,
            period_months: if product == 1 || product == 2 { 3 } else { 1 },
            method,
            principal_grace: None,
            purpose: PURPOSES[product].into(),
            project_total_vnd: amount_vnd * 3 / 2,
            own_capital_vnd: amount_vnd / 2,
            collateral: collateral.into_iter().collect(),
            no_bad_debt_declared: true,
            documents: vec![
                "Giấy chứng nhận đăng ký HTX".into(),
                "Phương án sản xuất kinh doanh".into(),
                "Báo cáo tài chính năm 2025".into(),
            ],
        }
    }

    /// Creates (officer Lan), submits and appraises (officer Minh) an application; the appraised view.
    async fn applied_and_appraised(
        &self,
        input: NewApplication,
        recommendation: Recommendation,
    ) -> AppResult<i64> {
        let created = applications::create(&self.state.ctx, &self.cast.lan, input).await?;
        applications::submit(&self.state.ctx, &self.cast.lan, created.id, None).await?;
        let appraisal = Appraisal {
            note:
                "Đã thẩm định thực địa: phương án khả thi, tài sản bảo đảm đủ, HTX không có nợ xấu."
                    .into(),
            recommendation,
        };
        applications::appraise(&self.state.ctx, &self.cast.minh, created.id, appraisal).await?;
        Ok(created.id.get())
    }

    /// Approves (the director; above the threshold also the council); the loan's id.
    async fn approved(&self, application_id: i64) -> AppResult<LoanId> {
        let reason = Some("Đủ điều kiện theo Nghị định 45/2021".into());
        let mut view = applications::approve(
            &self.state.ctx,
            &self.cast.giamdoc,
            application_id.into(),
            reason.clone(),
        )
        .await?;
        if view.status == Status::AwaitingCouncil {
            view = applications::approve(
                &self.state.ctx,
                &self.cast.hoidong,
                application_id.into(),
                reason,
            )
            .await?;
        }
        view.loan_id
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("approval created no loan")))
    }

    async fn originate(&mut self, i: usize, date: NaiveDate) -> AppResult<()> {
        let loan = &LOANS[i];
        let input = self.application_input(&loan.ask, true);
        let application_id = self
            .applied_and_appraised(input, Recommendation::Approve)
            .await?;
        let loan_id = self.approved(application_id).await?;
        self.loan_ids[i] = Some(loan_id);
        if loan.story == Story::ApprovedOnly {
            return Ok(());
        }
        let signed = loans::sign(
            &self.state.ctx,
            &self.cast.lan,
            loan_id,
            SignContract {
                contract_number: format!("{:03}/2026/HĐTD-QHTX", i + 1),
                signed_on: date,
            },
            None,
        )
        .await?;
        expect_fresh(signed)?;
        if loan.story == Story::SignedOnly {
            return Ok(());
        }
        let disbursed = loans::disburse(
            &self.state.ctx,
            &self.cast.hoa,
            loan_id,
            Disburse {
                amount: Vnd::from_i64(loan.ask.amount_mvnd * MILLION),
                value_date: date,
                reference: format!("UNC-GN-{:04}", i + 1),
            },
            None,
        )
        .await?;
        expect_fresh(disbursed)
    }

    async fn open_application(&mut self, i: usize) -> AppResult<()> {
        let (ask, target) = OPEN_APPLICATIONS[i];
        let by_cooperative = ask.coop == 0 && target == Status::Draft;
        let input = self.application_input(&ask, !by_cooperative);
        if target == Status::Draft {
            let creator = if by_cooperative {
                self.cast.cooperative.as_ref().unwrap_or(&self.cast.lan)
            } else {
                &self.cast.lan
            };
            applications::create(&self.state.ctx, creator, input).await?;
            return Ok(());
        }
        if target == Status::Submitted || target == Status::Withdrawn {
            let created = applications::create(&self.state.ctx, &self.cast.lan, input).await?;
            applications::submit(&self.state.ctx, &self.cast.lan, created.id, None).await?;
            if target == Status::Withdrawn {
                let reason = Some("HTX đã thu xếp được vốn từ ngân hàng thương mại".into());
                applications::withdraw(&self.state.ctx, &self.cast.lan, created.id, reason).await?;
            }
            return Ok(());
        }
        let recommendation = if target == Status::Rejected {
            Recommendation::Reject
        } else {
            Recommendation::Approve
        };
        let id = self.applied_and_appraised(input, recommendation).await?;
        match target {
            Status::AwaitingCouncil => {
                let reason = Some("Đề nghị Hội đồng quản lý xem xét khoản vay lớn".into());
                applications::approve(&self.state.ctx, &self.cast.giamdoc, id.into(), reason)
                    .await?;
            }
            Status::Rejected => {
                let reason = Some("Phương án kinh doanh chưa chứng minh được nguồn trả nợ".into());
                applications::reject(&self.state.ctx, &self.cast.giamdoc, id.into(), reason)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    fn loan_id(&self, plan: usize) -> Option<LoanId> {
        self.loan_ids.get(plan).copied().flatten()
    }

    async fn amount_of(&self, loan_id: LoanId, amount: Amount) -> AppResult<Vnd> {
        let (ctx, caller) = (&self.state.ctx, &self.cast.hoa);
        let view = loans::get(ctx, caller, loan_id).await?;
        let quote = loans::payoff(ctx, caller, loan_id, None).await?;
        let due = view
            .next_due
            .as_ref()
            .map_or(Decimal::ZERO, |d| d.total_vnd.as_decimal());
        let percent_of = |amount: Vnd, percent: i64| {
            (amount.as_decimal() * Decimal::from(percent) / Decimal::ONE_HUNDRED).trunc()
        };
        let wanted = match amount {
            Amount::Due => due,
            Amount::Overdue => {
                let overdue = (quote.overdue_principal_vnd
                    + quote.unpaid_interest_vnd
                    + quote.overdue_interest_vnd
                    + quote.late_interest_vnd)
                    .as_decimal();
                if overdue > Decimal::ZERO {
                    overdue
                } else {
                    due
                }
            }
            Amount::PercentOfDue(percent) => {
                (due * Decimal::from(percent) / Decimal::ONE_HUNDRED).trunc()
            }
            Amount::PrepayPercent(percent) => percent_of(view.principal_vnd, percent),
            Amount::Payoff => quote.total_vnd.as_decimal(),
        };
        // Whole thousands, as cooperatives transfer; never above the payoff.
        let thousand = Decimal::from(1000);
        let rounded = if matches!(amount, Amount::Payoff) {
            wanted
        } else {
            ((wanted + Decimal::from(999)) / thousand).trunc() * thousand
        };
        Vnd::new(rounded.min(quote.total_vnd.as_decimal())).map_err(AppError::internal)
    }

    async fn repay(&mut self, plan: usize, amount: Amount, value_date: NaiveDate) -> AppResult<()> {
        let Some(loan_id) = self.loan_id(plan) else {
            return Ok(());
        };
        let loan = loans::get(&self.state.ctx, &self.cast.hoa, loan_id).await?;
        if loan.status != LoanStatus::Active {
            return Ok(());
        }
        let amount_vnd = self.amount_of(loan_id, amount).await?;
        if !amount_vnd.is_positive() {
            return Ok(());
        }
        let kind = if matches!(amount, Amount::PrepayPercent(_)) {
            RepaymentKind::Prepayment
        } else {
            RepaymentKind::Ordinary
        };
        self.keys += 1;
        let repaid = loans::repay(
            &self.state.ctx,
            &self.cast.hoa,
            loan_id,
            Repay {
                amount: amount_vnd,
                value_date,
                reference: format!("GBC-{:06}", self.keys),
                kind,
            },
            None,
        )
        .await?;
        expect_fresh(repaid)
    }

    async fn reverse_last(&mut self, plan: usize) -> AppResult<()> {
        let Some(loan_id) = self.loan_id(plan) else {
            return Ok(());
        };
        let transactions = loans::transactions(&self.state.ctx, &self.cast.hoa, loan_id).await?;
        let Some(last) = transactions
            .iter()
            .rev()
            .find(|t| t.kind == TransactionKind::Repayment && t.reversed_by.is_none())
        else {
            return Ok(());
        };
        let result = loans::reverse(
            &self.state.ctx,
            &self.cast.hoa,
            loan_id,
            Reverse {
                transaction_id: last.id.into(),
                reason: "Kế toán nhập sai số tiền so với giấy báo có của ngân hàng".into(),
            },
            None,
        )
        .await?;
        expect_fresh(result)
    }

    async fn restructure(&mut self, plan: usize, date: NaiveDate) -> AppResult<()> {
        let Some(loan_id) = self.loan_id(plan) else {
            return Ok(());
        };
        let first_due_on = add_months_clamped(date, 1).unwrap_or(date);
        let installments =
            u32::try_from(LOANS[plan].ask.installments).map_err(AppError::internal)?;
        let result = loans::restructure(
            &self.state.ctx,
            &self.cast.giamdoc,
            loan_id,
            Restructure {
                kind: RestructureKind::Extension,
                first_due_on,
                installments,
                period_months: None,
                method: None,
                principal_grace: 0,
                interest_reduced: false,
                interest_reduction: Vnd::ZERO,
                value_date: None,
                reason: "Sương muối làm hỏng vụ chè; Hội đồng quản lý đồng ý gia hạn nợ (Nghị định 45/2021 Điều 27)".into(),
            },
            None,
        )
        .await?;
        expect_fresh(result)
    }

    async fn write_off(&mut self, plan: usize) -> AppResult<()> {
        let Some(loan_id) = self.loan_id(plan) else {
            return Ok(());
        };
        let result = loans::write_off(
            &self.state.ctx,
            &self.cast.giamdoc,
            loan_id,
            WriteOff {
                reason: "HTX ngừng hoạt động; Hội đồng xử lý rủi ro quyết định xử lý bằng dự phòng (Nghị định 45/2021 Điều 29)".into(),
                value_date: None,
                early: None,
            },
            None,
        )
        .await?;
        expect_fresh(result)
    }

    async fn recover(&mut self, plan: usize, value_date: NaiveDate) -> AppResult<()> {
        let Some(loan_id) = self.loan_id(plan) else {
            return Ok(());
        };
        let loan = loans::get(&self.state.ctx, &self.cast.hoa, loan_id).await?;
        let Some(follow_up) = loan.follow_up.filter(|f| f.principal_vnd.is_positive()) else {
            return Ok(());
        };
        // A fifth of the principal under follow-up, in whole đồng.
        let amount = Vnd::new((follow_up.principal_vnd.as_decimal() / Decimal::from(5)).trunc())
            .map_err(AppError::internal)?;
        let result = loans::recover(
            &self.state.ctx,
            &self.cast.hoa,
            loan_id,
            Recover {
                amount,
                value_date,
                reference: "Thi hành án dân sự, QĐ 45/QĐ-CCTHADS".into(),
            },
            None,
        )
        .await?;
        expect_fresh(result)
    }
}

fn expect_fresh<T>(result: Idempotent<T>) -> AppResult<()> {
    result
        .fresh()
        .map(|_| ())
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a fresh demo key was replayed")))
}

/// The dated actions of loan `i`'s story; `due(k)` is its k-th contractual due date.
fn story_actions(
    i: usize,
    loan: &LoanPlan,
    due: &dyn Fn(i64) -> NaiveDate,
    today: NaiveDate,
    out: &mut Vec<(NaiveDate, Action)>,
) {
    let pay = |date: NaiveDate, amount: Amount| {
        (
            date,
            Action::Repay {
                plan: i,
                amount,
                value_date: date,
            },
        )
    };
    let dues: Vec<(i64, NaiveDate)> = (1..=loan.ask.installments)
        .map(|k| (k, due(k)))
        .filter(|(_, d)| *d < today)
        .collect();
    match loan.story {
        Story::OnTime => out.extend(dues.iter().map(|(_, d)| pay(*d, Amount::Due))),
        Story::Late => out.extend(dues.iter().map(|(k, d)| {
            let paid_on = *d + Duration::days(6 + (k * 7) % 14);
            (
                paid_on,
                Action::Repay {
                    plan: i,
                    amount: Amount::Overdue,
                    value_date: paid_on,
                },
            )
        })),
        Story::Partial => out.extend(dues.iter().map(|(_, d)| pay(*d, Amount::PercentOfDue(50)))),
        Story::Prepaid => {
            out.extend(dues.iter().map(|(_, d)| pay(*d, Amount::Due)));
            out.push(pay(due(2) + Duration::days(3), Amount::PrepayPercent(30)));
        }
        Story::BackDated => out.extend(dues.iter().map(|(k, d)| {
            // The bank's credit note for the second installment reached the accountant nine days late.
            let recorded = if *k == 2 { *d + Duration::days(9) } else { *d };
            (
                recorded,
                Action::Repay {
                    plan: i,
                    amount: Amount::Due,
                    value_date: *d,
                },
            )
        })),
        Story::Reversed => {
            for (k, d) in &dues {
                if *k == 2 {
                    out.push(pay(*d, Amount::PercentOfDue(10)));
                    out.push((*d + Duration::days(1), Action::ReverseLast(i)));
                    out.push((
                        *d + Duration::days(1),
                        Action::Repay {
                            plan: i,
                            amount: Amount::Due,
                            value_date: *d,
                        },
                    ));
                } else {
                    out.push(pay(*d, Amount::Due));
                }
            }
        }
        Story::Restructured => {
            out.extend(
                dues.iter()
                    .filter(|(k, _)| *k <= 2)
                    .map(|(_, d)| pay(*d, Amount::Due)),
            );
            let restructured_on = due(3) + Duration::days(40);
            out.push((restructured_on, Action::Restructure(i)));
            for k in 1..=loan.ask.installments {
                let Some(d) = add_months_clamped(restructured_on, u32::try_from(k).unwrap_or(0))
                else {
                    continue;
                };
                if d < today {
                    out.push(pay(d, Amount::Due));
                }
            }
        }
        Story::Closed => {
            out.extend(
                dues.iter()
                    .filter(|(k, _)| *k <= 3)
                    .map(|(_, d)| pay(*d, Amount::Due)),
            );
            out.push(pay(due(3) + Duration::days(10), Amount::Payoff));
        }
        Story::Behind => {
            // Every due date at least this long before today is paid on the day; the later ones are
            // not. Monthly dues are at most 31 days apart, so one falls between 45 and 14 days ago.
            let paid_until = today - Duration::days(BEHIND_SINCE_DAYS);
            out.extend(
                dues.iter()
                    .filter(|(_, d)| *d < paid_until)
                    .map(|(_, d)| pay(*d, Amount::Due)),
            );
        }
        Story::Defaulted => out.extend(
            dues.iter()
                .take(1)
                .map(|(_, d)| pay(*d, Amount::PercentOfDue(50))),
        ),
        Story::WrittenOff => {
            let written_off_on = due(1) + Duration::days(150);
            out.push((written_off_on, Action::WriteOff(i)));
            // The fund keeps following the debt (Decree 45/2021 Art 29): a first recovery three weeks later.
            out.push((written_off_on + Duration::days(21), Action::Recover(i)));
        }
        Story::Fresh | Story::ApprovedOnly | Story::SignedOnly => {}
    }
}
