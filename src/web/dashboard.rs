//! `/home`: each role's start page, built from the use cases the API serves.
//!
//! - Officer: my applications by state (created or appraised by me), my loans falling due in the
//!   next 7 days (each loan's live next installment, [`loans::get`]), my overdue loans by band of
//!   days past due (the bands are the configured debt-group thresholds, `[classification]`).
//! - Accountant: loans waiting for the contract and loans to disburse; the business date and the
//!   latest close-of-business runs.
//! - Approver: applications waiting for a decision; the portfolio by debt group.
//! - Admin, auditor: the portfolio by debt group and the latest close-of-business runs.
//! - Cooperative: its own loans.
//!
//! The lists read at most [`LIST_LIMIT`] rows of each use case (the API's page size); a fund whose
//! officer has more open loans than that needs a server-side query by officer, noted in the issue.

use askama::Template;
use axum::{extract::State, response::Response};
use chrono::{Duration, NaiveDate};

use super::{
    chart::{self, Bar},
    format, Shell, WebUser,
};
use coopfund_domain::{ids::UserId, LoanStatus, Vnd};

use crate::{
    app::{
        applications::{self, Application, ApplicationFilter, Status},
        cob,
        cooperatives::{self, CooperativeFilter},
        ledger::stored_vnd,
        loans::{self, LoanFilter, LoanView},
        page::PageRequest,
        reports, Caller,
    },
    auth::Role,
    error::{AppResult, Lang},
    http::dto::cob::CobRunView,
    state::AppState,
};

crate::texts! {
    DashText, DASH_VI, DASH_EN;
    outstanding_by_group: "Dư nợ theo nhóm nợ", "Outstanding by debt group";
    portfolio_overdue: "Nợ quá hạn toàn danh mục theo số ngày quá hạn", "Overdue across the portfolio by days past due";
    bands_truncated: "Chỉ tính 10.000 khoản vay quá hạn đầu tiên.", "Only the first 10,000 overdue loans are counted.";
    loans_word: "khoản vay", "loans";
}

/// The page size asked of the list use cases (their maximum).
pub const LIST_LIMIT: u64 = 200;
/// How many pages of cooperatives are read for names (10 000 cooperatives).
const NAME_PAGES_MAX: usize = 50;

/// A loan as a line of a list.
pub struct LoanRow {
    pub id: i64,
    pub number: String,
    pub cooperative: String,
    pub status: String,
    pub principal_vnd: Vnd,
    pub outstanding_vnd: Vnd,
    pub dpd: i64,
    pub debt_group: i32,
}

impl LoanRow {
    /// The line of `loan`, naming its cooperative from `names`.
    pub fn of(loan: &LoanView, names: &std::collections::HashMap<i64, String>) -> LoanRow {
        LoanRow {
            id: loan.id,
            number: loan.number.clone(),
            cooperative: names
                .get(&loan.cooperative_id)
                .cloned()
                .unwrap_or_else(|| format!("#{}", loan.cooperative_id)),
            status: loan.status.as_str().to_string(),
            principal_vnd: loan.principal_vnd,
            outstanding_vnd: loan.in_term_principal_vnd + loan.overdue_principal_vnd,
            dpd: loan.dpd,
            debt_group: i32::from(loan.debt_group.number()),
        }
    }
}

/// The names of the cooperatives the caller may see, by id.
pub async fn cooperative_names(
    state: &AppState,
    caller: &Caller,
) -> AppResult<std::collections::HashMap<i64, String>> {
    let mut names = std::collections::HashMap::new();
    let mut cursor = None;
    for _ in 0..NAME_PAGES_MAX {
        let filter = CooperativeFilter {
            q: None,
            district: None,
            page: PageRequest::parse(Some(LIST_LIMIT), cursor.take().as_deref())?,
        };
        let page = cooperatives::list(&state.ctx, caller, filter).await?;
        names.extend(page.items.into_iter().map(|c| (c.id.get(), c.name)));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(names)
}

/// One state and how many of my applications are in it.
pub struct StateCount {
    pub status: &'static str,
    pub count: usize,
}

/// A loan falling due soon.
pub struct DueRow {
    pub loan: LoanRow,
    pub due_on: NaiveDate,
    pub total_vnd: Vnd,
}

/// Overdue loans in one band of days past due.
pub struct Band {
    pub label: String,
    pub loans: usize,
    pub overdue_principal_vnd: Vnd,
    pub outstanding_vnd: Vnd,
}

/// The officer's desk.
pub struct OfficerDesk {
    pub applications: Vec<StateCount>,
    pub due_soon: Vec<DueRow>,
    /// The bands that have loans in them.
    pub bands: Vec<Band>,
    /// Every band drawn (SVG, see [`chart`]).
    pub chart_bands: String,
}

/// The accountant's desk.
pub struct AccountantDesk {
    pub to_sign: Vec<LoanRow>,
    pub to_disburse: Vec<LoanRow>,
    pub last_closed: NaiveDate,
}

/// An application waiting for a decision.
pub struct QueueRow {
    pub id: i64,
    pub number: String,
    pub cooperative: String,
    pub amount_vnd: i64,
    pub status: String,
}

/// One debt group of the portfolio.
pub struct GroupRow {
    pub debt_group: u8,
    pub loans: i64,
    pub outstanding_principal_vnd: i64,
}

/// The portfolio by debt group and its overdue loans by band of days past due.
pub struct Portfolio {
    pub groups: Vec<GroupRow>,
    pub total_vnd: i64,
    pub bad_debt_ratio: Option<String>,
    /// Every band, empty ones too.
    pub bands: Vec<Band>,
    /// Outstanding by debt group, drawn (SVG).
    pub chart_groups: String,
    /// Overdue principal by band, drawn (SVG).
    pub chart_bands: String,
    /// Whether more overdue loans exist than were read (the bands then count the first ones).
    pub bands_truncated: bool,
}

/// `/home`.
#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub shell: Shell,
    pub d: &'static DashText,
    pub heading: String,
    pub officer: Option<OfficerDesk>,
    pub accountant: Option<AccountantDesk>,
    pub queue: Option<Vec<QueueRow>>,
    pub portfolio: Option<Portfolio>,
    pub runs: Option<Vec<CobRunView>>,
    pub own_loans: Option<Vec<LoanRow>>,
}

/// `GET /home`.
pub async fn home(State(state): State<AppState>, user: WebUser) -> Response {
    // A cooperative's start page is its own area's (issue 10).
    if user.caller.role() == Role::Cooperative {
        return super::my_cooperative::home(&state, &user).await;
    }
    user.page(&state, build(&state, &user)).await
}

async fn build(state: &AppState, user: &WebUser) -> AppResult<DashboardPage> {
    let caller = &user.caller;
    let t = super::text::text(user.lang);
    let heading = match caller.role() {
        Role::Officer => t.dash_officer,
        Role::Accountant => t.dash_accountant,
        Role::Approver => t.dash_approver,
        Role::Cooperative => t.nav_my_loans,
        Role::Admin | Role::Auditor => t.dash_overview,
    };
    let names = cooperative_names(state, caller).await?;
    let mut page = DashboardPage {
        shell: user.shell(state, heading).await,
        d: DashText::of(user.lang),
        heading: heading.to_string(),
        officer: None,
        accountant: None,
        queue: None,
        portfolio: None,
        runs: None,
        own_loans: None,
    };
    match caller.role() {
        Role::Officer => page.officer = Some(officer_desk(state, caller, &names).await?),
        Role::Accountant => {
            page.accountant = Some(accountant_desk(state, caller, &names).await?);
            page.runs = Some(latest_runs(state, caller).await?);
            page.portfolio = Some(portfolio(state, caller).await?);
        }
        Role::Approver => {
            page.queue = Some(approval_queue(state, caller, &names).await?);
            page.portfolio = Some(portfolio(state, caller).await?);
        }
        Role::Admin | Role::Auditor => {
            page.portfolio = Some(portfolio(state, caller).await?);
            page.runs = Some(latest_runs(state, caller).await?);
        }
        Role::Cooperative => {
            let own = loans::list(
                &state.ctx,
                caller,
                LoanFilter {
                    limit: Some(LIST_LIMIT),
                    ..Default::default()
                },
            )
            .await?;
            page.own_loans = Some(own.items.iter().map(|l| LoanRow::of(l, &names)).collect());
        }
    }
    Ok(page)
}

async fn officer_desk(
    state: &AppState,
    caller: &Caller,
    names: &std::collections::HashMap<i64, String>,
) -> AppResult<OfficerDesk> {
    let me = caller.user_id();
    let apps = applications::list(
        &state.ctx,
        caller,
        ApplicationFilter {
            limit: Some(LIST_LIMIT),
            ..Default::default()
        },
    )
    .await?;
    let mine: Vec<&Application> = apps
        .items
        .iter()
        .filter(|a| {
            let me = me.map(UserId::new);
            a.created_by == me || a.appraised_by == me
        })
        .collect();
    let applications = Status::ALL
        .into_iter()
        .map(|s| StateCount {
            status: s.as_str(),
            count: mine.iter().filter(|a| a.status == s).count(),
        })
        .filter(|c| c.count > 0)
        .collect();

    let active = loans::list(
        &state.ctx,
        caller,
        LoanFilter {
            status: Some(LoanStatus::Active),
            limit: Some(LIST_LIMIT),
            ..Default::default()
        },
    )
    .await?;
    let my_loans: Vec<&LoanView> = active.items.iter().filter(|l| l.officer_id == me).collect();

    // Due soon: the live next installment of each of my loans (the cached list has none).
    let today = cob::business_dates(&state.ctx, caller).await?.business_date;
    let horizon = today + Duration::days(7);
    let mut due_soon = Vec::new();
    for loan in &my_loans {
        let live = loans::get(&state.ctx, caller, loan.id.into()).await?;
        if let Some(next) = &live.next_due {
            if next.due_on >= today && next.due_on <= horizon {
                due_soon.push(DueRow {
                    loan: LoanRow::of(&live, names),
                    due_on: next.due_on,
                    total_vnd: next.total_vnd,
                });
            }
        }
    }
    due_soon.sort_by_key(|d| d.due_on);

    // Overdue bands from the debt-group thresholds (days past due, as of the last close).
    let all_bands = dpd_bands(&my_loans, state.settings.classification.group_from_dpd);
    let chart_bands = overdue_chart(
        "my-overdue-chart",
        super::text::text(caller.lang).overdue_by_band,
        &all_bands,
        caller.lang,
    );
    let bands = all_bands.into_iter().filter(|b| b.loans > 0).collect();
    Ok(OfficerDesk {
        applications,
        due_soon,
        bands,
        chart_bands,
    })
}

async fn accountant_desk(
    state: &AppState,
    caller: &Caller,
    names: &std::collections::HashMap<i64, String>,
) -> AppResult<AccountantDesk> {
    let of_status = |status: LoanStatus| LoanFilter {
        status: Some(status),
        limit: Some(LIST_LIMIT),
        ..Default::default()
    };
    let to_sign = loans::list(&state.ctx, caller, of_status(LoanStatus::Approved)).await?;
    let to_disburse =
        loans::list(&state.ctx, caller, of_status(LoanStatus::ContractSigned)).await?;
    let dates = cob::business_dates(&state.ctx, caller).await?;
    Ok(AccountantDesk {
        to_sign: to_sign
            .items
            .iter()
            .map(|l| LoanRow::of(l, names))
            .collect(),
        to_disburse: to_disburse
            .items
            .iter()
            .map(|l| LoanRow::of(l, names))
            .collect(),
        last_closed: dates.last_closed_date,
    })
}

async fn latest_runs(state: &AppState, caller: &Caller) -> AppResult<Vec<CobRunView>> {
    let page = cob::list_runs(
        &state.ctx,
        caller,
        crate::app::page::PageRequest::parse(Some(5), None)?,
    )
    .await?;
    Ok(page.items.into_iter().map(CobRunView::from).collect())
}

async fn approval_queue(
    state: &AppState,
    caller: &Caller,
    names: &std::collections::HashMap<i64, String>,
) -> AppResult<Vec<QueueRow>> {
    let mut rows = Vec::new();
    for wanted in [Status::Appraised, Status::AwaitingCouncil] {
        let page = applications::list(
            &state.ctx,
            caller,
            ApplicationFilter {
                status: Some(wanted),
                limit: Some(LIST_LIMIT),
                ..Default::default()
            },
        )
        .await?;
        rows.extend(page.items.into_iter().map(|a| {
            QueueRow {
                cooperative: names
                    .get(&a.cooperative_id.get())
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", a.cooperative_id)),
                id: a.id.get(),
                number: a.number,
                amount_vnd: a.amount_vnd,
                status: a.status.as_str().into(),
            }
        }));
    }
    Ok(rows)
}

/// The loans in each band of days past due: 1 day up to the group-2 threshold, then from each
/// threshold to the next (`group_from_dpd`, `[classification]`), the last open-ended. Every band is
/// returned, empty ones too.
pub fn dpd_bands(loans: &[&LoanView], group_from_dpd: [i64; 4]) -> Vec<Band> {
    let [g2, g3, g4, g5] = group_from_dpd;
    let limits = [
        (1, g2 - 1),
        (g2, g3 - 1),
        (g3, g4 - 1),
        (g4, g5 - 1),
        (g5, i64::MAX),
    ];
    limits
        .into_iter()
        .map(|(from, to)| {
            let in_band: Vec<&&LoanView> = loans
                .iter()
                .filter(|l| l.dpd >= from && l.dpd <= to)
                .collect();
            Band {
                label: if to == i64::MAX {
                    format!("≥ {from}")
                } else {
                    format!("{from}–{to}")
                },
                loans: in_band.len(),
                overdue_principal_vnd: in_band.iter().map(|l| l.overdue_principal_vnd).sum(),
                outstanding_vnd: in_band
                    .iter()
                    .map(|l| l.in_term_principal_vnd + l.overdue_principal_vnd)
                    .sum(),
            }
        })
        .collect()
}

/// The overdue principal of each band, drawn.
fn overdue_chart(id: &str, title: &str, bands: &[Band], lang: Lang) -> String {
    let t = super::text::text(lang);
    let days = match lang {
        Lang::Vi => "ngày",
        Lang::En => "days",
    };
    let bars: Vec<Bar> = bands
        .iter()
        .enumerate()
        .map(|(i, b)| Bar {
            label: format!("{} {days}", b.label),
            value_text: format!(
                "{} · {} {}",
                format::vnd_of(&b.overdue_principal_vnd, lang),
                b.loans,
                DashText::of(lang).loans_word
            ),
            value: b.overdue_principal_vnd.to_i64().unwrap_or(i64::MAX),
            fill: chart::band_colour(i),
        })
        .collect();
    chart::bar_chart(id, title, t.overdue_principal, &bars)
}

/// How many pages of overdue loans the portfolio's bands read (10 000 loans).
const OVERDUE_PAGES_MAX: usize = 50;

async fn portfolio(state: &AppState, caller: &Caller) -> AppResult<Portfolio> {
    let lang = caller.lang;
    let t = super::text::text(lang);
    let d = DashText::of(lang);
    let report = reports::portfolio(&state.ctx, caller, None, None).await?;
    let summary = &report.summary;
    let groups: Vec<GroupRow> = coopfund_domain::classification::DebtGroup::ALL
        .into_iter()
        .zip(summary.principal_by_group)
        .zip(report.loans_by_group)
        .map(|((group, principal), loans)| {
            Ok(GroupRow {
                debt_group: group.number(),
                loans,
                outstanding_principal_vnd: stored_vnd(principal)?,
            })
        })
        .collect::<AppResult<_>>()?;

    // The overdue loans as cached by the last close (the list's DPD), a page at a time.
    let mut overdue = Vec::new();
    let mut cursor = None;
    let mut bands_truncated = true;
    for _ in 0..OVERDUE_PAGES_MAX {
        let page = loans::list(
            &state.ctx,
            caller,
            LoanFilter {
                status: Some(LoanStatus::Active),
                overdue: Some(true),
                limit: Some(LIST_LIMIT),
                cursor: cursor.take(),
                ..Default::default()
            },
        )
        .await?;
        overdue.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => {
                bands_truncated = false;
                break;
            }
        }
    }
    let refs: Vec<&LoanView> = overdue.iter().collect();
    let bands = dpd_bands(&refs, state.settings.classification.group_from_dpd);

    let group_bars: Vec<Bar> = groups
        .iter()
        .map(|g| Bar {
            label: super::text::debt_group(i64::from(g.debt_group), lang),
            value_text: format!(
                "{} · {} {}",
                format::vnd(g.outstanding_principal_vnd, lang),
                g.loans,
                d.loans_word
            ),
            value: g.outstanding_principal_vnd,
            fill: chart::group_colour(g.debt_group),
        })
        .collect();
    Ok(Portfolio {
        total_vnd: stored_vnd(summary.total_principal)?,
        bad_debt_ratio: report.bad_debt_ratio_percent().map(|r| {
            let text = r.normalize().to_string();
            match lang {
                Lang::Vi => format!("{} %", text.replace('.', ",")),
                Lang::En => format!("{text} %"),
            }
        }),
        chart_groups: chart::bar_chart(
            "portfolio-chart",
            d.outstanding_by_group,
            t.outstanding,
            &group_bars,
        ),
        chart_bands: overdue_chart("overdue-chart", d.portfolio_overdue, &bands, lang),
        groups,
        bands,
        bands_truncated,
    })
}
