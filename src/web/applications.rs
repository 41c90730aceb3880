//! The officer's and approver's pages for loan applications: the list (an officer's own, the
//! approver's queue of appraised ones, any state), the new application form with its collateral
//! lines, and the application page with the Decree 45 checks computed live, the four-eyes status,
//! the appraisal form (an officer) and approve / reject with a reason (an approver).
//!
//! Every page calls the use cases the API calls (`app::applications`, `app::lending_limits`,
//! `app::products`, `app::cooperatives`); the checks shown are the approval's own
//! ([`lending_limits::for_application`]), so a refusal reads the same before and after the click.
//! Forms work without JavaScript: collateral lines are added and removed by submit buttons that
//! re-render the form with what was typed, and the project checks (loan ≤ 80%, own capital ≥ 20%)
//! are refreshed by a "check" button — htmx only does the same in place as one types.
//! The approval posts with an idempotency key made when the page was rendered (it creates a loan):
//! a double click approves once.

use std::collections::HashMap;

use askama::Template;
use axum::{
    extract::{Path, RawQuery, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use coopfund_domain::{
    ids::{ApplicationId, UserId},
    limits::Rule,
    Method,
};
use rust_decimal::Decimal;
use serde::Serialize;

use super::form::{link, Done, FormPairs, PageQuery};
use super::{
    form::{all, first, key_or_new, keyed, pairs, render_with, Errors},
    format, is_htmx, render, PathId, Shell, WebUser,
};
use crate::{
    app::{
        applications::{
            self, Application, ApplicationFilter, Appraisal, NewApplication, NewCollateral,
            Recommendation, Status,
        },
        cooperatives,
        idempotency::Idempotent,
        lending_limits::{self, ApplicationChecks, Check},
        products::{self, Product, ProductFilter},
    },
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Lang},
    state::AppState,
};

crate::texts! {
    OfficerText, OFFICER_VI, OFFICER_EN;
    applications_title: "Hồ sơ vay", "Loan applications";
    view_mine: "Hồ sơ của tôi", "Mine";
    view_queue: "Chờ phê duyệt", "Waiting for a decision";
    view_to_appraise: "Chờ thẩm định", "Waiting for appraisal";
    view_all: "Tất cả", "All";
    new_application: "Lập hồ sơ vay mới", "New application";
    number: "Số hồ sơ", "Number";
    updated: "Cập nhật", "Updated";
    no_applications: "Không có hồ sơ nào.", "No applications.";
    product: "Sản phẩm vay", "Loan product";
    choose: "— Chọn —", "— Choose —";
    amount_vnd: "Số tiền vay (đồng)", "Amount to lend (đồng)";
    installments: "Số kỳ trả nợ", "Number of installments";
    period_months: "Số tháng mỗi kỳ", "Months per installment";
    method: "Phương pháp trả nợ", "Repayment method";
    principal_grace: "Số kỳ ân hạn gốc", "Installments of principal grace";
    purpose: "Mục đích vay", "Purpose";
    project_total_vnd: "Tổng vốn dự án (đồng)", "Project's total capital (đồng)";
    own_capital_vnd: "Vốn tự có (đồng)", "Own capital (đồng)";
    no_bad_debt: "HTX cam kết không có nợ xấu tại tổ chức tín dụng (Nghị định 45/2021 Điều 22)", "The cooperative declares no bad debt at any credit institution (Decree 45/2021 Art 22)";
    documents: "Giấy tờ đã nộp (mỗi dòng một giấy tờ)", "Documents handed in (one per line)";
    collateral: "Tài sản bảo đảm", "Collateral";
    collateral_kind: "Loại tài sản", "Kind";
    collateral_description: "Mô tả", "Description";
    collateral_value: "Giá trị thẩm định (đồng)", "Appraised value (đồng)";
    collateral_discount: "Tỷ lệ khấu trừ (%)", "Haircut (%)";
    collateral_value_total: "Giá trị tài sản bảo đảm sau khấu trừ", "Collateral value after haircut";
    no_collateral: "Không có tài sản bảo đảm.", "No collateral.";
    add_line: "Thêm một dòng tài sản", "Add a collateral line";
    remove_line: "Xóa dòng này", "Remove this line";
    line: "Dòng", "Line";
    kind_land: "Quyền sử dụng đất", "Land use right";
    kind_machinery: "Máy móc, thiết bị", "Machinery";
    kind_deposit: "Tiền gửi", "Deposit";
    kind_other: "Khác", "Other";
    save_draft: "Lưu nháp", "Save as draft";
    save_submit: "Lưu và nộp hồ sơ", "Save and submit";
    check_project: "Kiểm tra điều kiện dự án", "Check the project";
    not_saved: "Chưa lưu: hãy sửa các lỗi bên dưới.", "Not saved: please correct the errors below.";
    not_done: "Chưa thực hiện:", "Not done:";
    project_checks: "Điều kiện dự án (Nghị định 45/2021 Điều 22)", "Project conditions (Decree 45/2021 Art 22)";
    checks_title: "Kiểm tra theo Nghị định 45/2021", "Checks under Decree 45/2021";
    checks_intro: "Tính lại mỗi lần mở trang, bằng đúng các quy tắc dùng khi phê duyệt.", "Computed each time the page opens, with the very rules approval applies.";
    rule: "Quy định", "Rule";
    limit: "Giới hạn", "Limit";
    current: "Hiện tại", "Now";
    after_loan: "Sau khoản vay", "After this loan";
    room: "Còn được vay", "Room left";
    result: "Kết quả", "Result";
    ok: "Đạt", "Met";
    breached: "Vượt", "Breached";
    rule_loan_share: "Số tiền vay ≤ 80% tổng vốn dự án (Điều 22)", "Loan ≤ 80% of the project (Art 22)";
    rule_own_capital: "Vốn tự có ≥ 20% tổng vốn dự án (Điều 22)", "Own capital ≥ 20% of the project (Art 22)";
    rule_single: "Dư nợ một khách hàng ≤ 15% vốn điều lệ thực có (Điều 23)", "One customer ≤ 15% of paid-in charter capital (Art 23)";
    rule_group: "Khách hàng và người có liên quan ≤ 25% vốn điều lệ thực có (Điều 23)", "Customer and related persons ≤ 25% of paid-in charter capital (Art 23)";
    shortfall: "Còn thiếu", "Short by";
    cooperative: "Hợp tác xã", "Cooperative";
    minimum: "Tối thiểu", "Minimum";
    maximum: "Tối đa", "Maximum";
    charter_capital: "Vốn điều lệ thực có của Quỹ", "The fund's paid-in charter capital";
    related_group: "Nhóm người có liên quan", "Related group";
    rate_caps: "Trần lãi suất (Bộ luật Dân sự Điều 466, 468)", "Rate caps (Civil Code Art 466, 468)";
    cap_rate: "Lãi suất trong hạn", "In-term rate";
    cap_overdue: "Hệ số lãi quá hạn", "Overdue multiplier";
    cap_late: "Lãi chậm trả lãi", "Late rate on unpaid interest";
    eligible: "Đối tượng được vay (Điều 20)", "Eligible borrower (Art 20)";
    declared: "Cam kết không có nợ xấu (Điều 22)", "No bad debt declared (Art 22)";
    yes: "Có", "Yes";
    no: "Không", "No";
    verdict_ok: "Nếu phê duyệt bây giờ: đạt mọi điều kiện.", "If approved now: every condition is met.";
    verdict_refused: "Nếu phê duyệt bây giờ sẽ bị từ chối:", "If approved now it would be refused:";
    four_eyes: "Nguyên tắc bốn mắt", "Four-eyes status";
    created_by: "Người lập hồ sơ", "Created by";
    appraised_by: "Người thẩm định", "Appraised by";
    approved_by: "Người phê duyệt", "Approved by";
    council_by: "Hội đồng quản lý phê duyệt", "Council approval by";
    nobody_yet: "Chưa có", "Not yet";
    recommendation: "Đề xuất", "Recommendation";
    rec_approve: "Đề nghị cho vay", "Recommend lending";
    rec_reject: "Đề nghị không cho vay", "Recommend refusing";
    appraisal_note: "Ý kiến thẩm định", "Appraisal note";
    council_needed: "Số tiền trên ngưỡng: cần thêm phê duyệt của Hội đồng quản lý (trên", "Above the threshold: the management council must approve too (above";
    council_not_needed: "Một người phê duyệt là đủ (không quá", "One approval is enough (not above";
    appraise_title: "Thẩm định hồ sơ", "Appraise the application";
    appraise_hint: "Người thẩm định nên là cán bộ khác với người lập hồ sơ.", "The appraiser should be an officer other than the one who created the application.";
    appraise: "Ghi kết quả thẩm định", "Record the appraisal";
    submit: "Nộp hồ sơ", "Submit the application";
    decide_title: "Quyết định", "Decision";
    reason: "Lý do", "Reason";
    reason_hint: "Bắt buộc khi từ chối", "Required to reject";
    approve: "Phê duyệt", "Approve";
    reject: "Từ chối", "Reject";
    decision_reason: "Lý do quyết định", "Reason for the decision";
    loan_created: "Khoản vay đã tạo", "Loan created";
    done_submitted: "Đã nộp hồ sơ.", "The application was submitted.";
    done_appraised: "Đã ghi kết quả thẩm định.", "The appraisal was recorded.";
    done_approved: "Đã phê duyệt hồ sơ.", "The application was approved.";
    done_council: "Đã phê duyệt lần đầu; chờ Hội đồng quản lý.", "First approval recorded; waiting for the council.";
    done_rejected: "Đã từ chối hồ sơ.", "The application was rejected.";
    done_created: "Đã lưu hồ sơ.", "The application was saved.";
    terms_line: "kỳ, mỗi kỳ", "installments, every";
    months: "tháng", "months";
    details: "Thông tin hồ sơ", "Application details";
    register_cooperative: "Đăng ký hợp tác xã", "Register a cooperative";
    edit_cooperative: "Sửa thông tin hợp tác xã", "Edit the cooperative";
    edit: "Sửa", "Edit";
    save: "Lưu", "Save";
    kind: "Loại hình", "Kind";
    kind_coop: "Hợp tác xã", "Cooperative";
    kind_union: "Liên hiệp hợp tác xã", "Union of cooperatives";
    kind_coop_member: "Thành viên hợp tác xã", "Member of a cooperative";
    registration_code: "Mã số đăng ký", "Registration code";
    name: "Tên hợp tác xã", "Name";
    district: "Huyện/Thành phố", "District";
    phone: "Điện thoại", "Phone";
    commune: "Xã/Phường", "Commune";
    address: "Địa chỉ", "Address";
    legal_representative: "Người đại diện theo pháp luật", "Legal representative";
    email: "Thư điện tử", "Email";
    language: "Ngôn ngữ thư gửi HTX", "Language of its mail";
    member_count: "Số thành viên", "Members";
    coop_charter_vnd: "Vốn điều lệ của HTX (đồng)", "The cooperative's charter capital (đồng)";
    founded_on: "Ngày thành lập", "Founded on";
    related_group_hint: "Để trống nếu không có. Các HTX cùng nhóm chịu chung giới hạn 25%.", "Leave empty if none. Cooperatives of one group share the 25% limit.";
    exposure_title: "Dư nợ so với giới hạn (Nghị định 45/2021 Điều 23)", "Exposure against the limits (Decree 45/2021 Art 23)";
    exposure_hint: "Dư nợ gồm gốc còn nợ và gốc đã duyệt chưa giải ngân.", "Exposure is principal outstanding plus approved principal not yet disbursed.";
    loans_of: "Khoản vay", "Loans";
    applications_of: "Hồ sơ vay", "Applications";
    new_for_this: "Lập hồ sơ vay cho HTX này", "New application for this cooperative";
    back_to_list: "Về danh sách", "Back to the list";
    version_hint: "Nếu người khác đã sửa trước, hãy tải lại trang.", "If someone else saved first, reload the page.";
    saved: "Đã lưu.", "Saved.";
    open_detail: "Xem", "Open";
}

/// Adds this area's pages to the site's router (the cooperative pages beyond the list too: they
/// are this area's, see [`super::cooperatives`]).
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/applications", get(list))
        .route("/applications/new", get(new_form).post(create))
        .route("/applications/{id}", get(show))
        .route(
            "/applications/{id}/submit",
            get(back_to_application).post(submit),
        )
        .route(
            "/applications/{id}/appraise",
            get(back_to_application).post(appraise),
        )
        .route(
            "/applications/{id}/approve",
            get(back_to_application).post(approve),
        )
        .route(
            "/applications/{id}/reject",
            get(back_to_application).post(reject),
        )
        .route(
            "/cooperatives/new",
            get(super::cooperatives::new_form).post(super::cooperatives::create),
        )
        .route("/cooperatives/{id}", get(super::cooperatives::show))
        .route(
            "/cooperatives/{id}/edit",
            get(super::cooperatives::edit_form).post(super::cooperatives::update),
        )
}

// ----- what the forms share -----

/// A whole number typed in a form; 400 naming `field` otherwise.
pub fn parse_count(field: &str, text: &str, lang: Lang) -> AppResult<i64> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(AppError::invalid(field, crate::error::Reason::Required));
    }
    trimmed.parse::<i64>().map_err(|_| {
        AppError::invalid(
            field,
            crate::error::Reason::InvalidFormat {
                expected: match lang {
                    Lang::Vi => "một số nguyên",
                    Lang::En => "a whole number",
                },
            },
        )
    })
}

/// The staff roles these pages are for (a cooperative user has its own pages under `/my`).
const STAFF: [Role; 5] = Role::STAFF;

// ----- the list -----

/// A line of the list.
pub struct AppRow {
    pub id: i64,
    pub number: String,
    pub cooperative: String,
    pub amount_vnd: i64,
    pub status: &'static str,
    pub updated: String,
}

/// `/applications`.
#[derive(Template)]
#[template(path = "applications_list.html")]
pub struct ListPage {
    pub shell: Shell,
    pub o: &'static OfficerText,
    pub rows: Vec<AppRow>,
    /// `mine`, `queue`, `appraise` or `all`.
    pub view: String,
    pub views: Vec<(&'static str, &'static str)>,
    pub can_create: bool,
    pub next_href: Option<String>,
}

/// The applications list's query as typed.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ListQuery {
    view: String,
    cursor: String,
}

/// `GET /applications?view=mine|queue|appraise|all`: an officer starts on their own, an approver
/// on the queue of appraised applications (and those awaiting the council).
pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<ListQuery>,
) -> Response {
    user.page(&state, list_page(&state, &user, query)).await
}

async fn list_page(state: &AppState, user: &WebUser, query: ListQuery) -> AppResult<ListPage> {
    user.caller.require(&STAFF)?;
    let o = OfficerText::of(user.lang);
    let role = user.caller.role();
    let view = match query.view.as_str() {
        "mine" | "queue" | "appraise" | "all" => query.view.clone(),
        _ if role == Role::Officer => "mine".into(),
        _ if role == Role::Approver => "queue".into(),
        _ => "all".into(),
    };
    let cursor = Some(query.cursor.clone()).filter(|c| !c.is_empty());
    let mut filters = Vec::new();
    match view.as_str() {
        "mine" => filters.push(ApplicationFilter {
            involving_user: user.caller.user_id(),
            ..Default::default()
        }),
        "queue" => {
            for status in [Status::Appraised, Status::AwaitingCouncil] {
                filters.push(ApplicationFilter {
                    status: Some(status),
                    limit: Some(super::dashboard::LIST_LIMIT),
                    ..Default::default()
                });
            }
        }
        "appraise" => filters.push(ApplicationFilter {
            status: Some(Status::Submitted),
            limit: Some(super::dashboard::LIST_LIMIT),
            ..Default::default()
        }),
        _ => filters.push(ApplicationFilter::default()),
    }
    let paged = filters.len() == 1;
    let mut items: Vec<Application> = Vec::new();
    let mut next_cursor = None;
    for mut filter in filters {
        if paged {
            filter.cursor = cursor.clone();
        }
        let page = applications::list(&state.ctx, &user.caller, filter).await?;
        items.extend(page.items);
        if paged {
            next_cursor = page.next_cursor;
        }
    }
    items.sort_by_key(|a| std::cmp::Reverse(a.id));
    let names = super::dashboard::cooperative_names(state, &user.caller).await?;
    let rows = items
        .into_iter()
        .map(|a| AppRow {
            id: a.id.get(),
            cooperative: names
                .get(&a.cooperative_id.get())
                .cloned()
                .unwrap_or_else(|| format!("#{}", a.cooperative_id)),
            number: a.number,
            amount_vnd: a.amount_vnd,
            status: a.status.as_str(),
            updated: format::date(a.updated_at.date_naive()),
        })
        .collect();
    let next_href = next_cursor.map(|c| link("/applications", &[("view", &view), ("cursor", &c)]));
    Ok(ListPage {
        shell: user.shell(state, o.applications_title).await,
        o,
        rows,
        views: vec![
            ("mine", o.view_mine),
            ("appraise", o.view_to_appraise),
            ("queue", o.view_queue),
            ("all", o.view_all),
        ],
        view,
        can_create: role == Role::Officer,
        next_href,
    })
}

// ----- the new application form -----

/// A collateral line as typed.
#[derive(Debug, Default, Clone)]
pub struct CollateralLine {
    pub kind: String,
    pub description: String,
    pub value: String,
    pub discount: String,
}

/// The loan asked for and the project it pays for, as typed: the part of an application form
/// that the officer's page and the cooperative's own (`/my/applications/new`) share.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct TermsForm {
    pub product_id: String,
    pub amount_vnd: String,
    pub installments: String,
    pub period_months: String,
    pub method: String,
    pub principal_grace: String,
    pub purpose: String,
    pub project_total_vnd: String,
    pub own_capital_vnd: String,
}

impl TermsForm {
    /// The terms from a submitted form's pairs (the first value of each name).
    fn of(pairs: &[(String, String)]) -> TermsForm {
        TermsForm {
            product_id: first(pairs, "product_id"),
            amount_vnd: first(pairs, "amount_vnd"),
            installments: first(pairs, "installments"),
            period_months: first(pairs, "period_months"),
            method: first(pairs, "method"),
            principal_grace: first(pairs, "principal_grace"),
            purpose: first(pairs, "purpose"),
            project_total_vnd: first(pairs, "project_total_vnd"),
            own_capital_vnd: first(pairs, "own_capital_vnd"),
        }
    }
}

/// The new application as typed (kept as typed when refused).
#[derive(Debug, Default, Clone)]
pub struct ApplicationForm {
    pub cooperative_id: String,
    pub terms: TermsForm,
    pub no_bad_debt_declared: bool,
    pub documents: String,
    pub collateral: Vec<CollateralLine>,
}

impl ApplicationForm {
    fn of(pairs: &[(String, String)]) -> ApplicationForm {
        let kinds = all(pairs, "collateral_kind");
        let descriptions = all(pairs, "collateral_description");
        let values = all(pairs, "collateral_value");
        let discounts = all(pairs, "collateral_discount");
        let lines = kinds
            .len()
            .max(descriptions.len())
            .max(values.len())
            .max(discounts.len());
        let at = |list: &Vec<String>, i: usize| list.get(i).cloned().unwrap_or_default();
        ApplicationForm {
            cooperative_id: first(pairs, "cooperative_id"),
            terms: TermsForm::of(pairs),
            no_bad_debt_declared: !first(pairs, "no_bad_debt_declared").is_empty(),
            documents: first(pairs, "documents"),
            collateral: (0..lines)
                .map(|i| CollateralLine {
                    kind: at(&kinds, i),
                    description: at(&descriptions, i),
                    value: at(&values, i),
                    discount: at(&discounts, i),
                })
                .collect(),
        }
    }

    /// The command, or every field that cannot be read placed in `errors`.
    fn command(&self, lang: Lang, errors: &mut Errors) -> Option<NewApplication> {
        let mut failed = false;
        let mut take = |result: AppResult<i64>, errors: &mut Errors| match result {
            Ok(v) => Some(v),
            Err(err) => {
                failed = true;
                errors.place_by(&err, lang, |f| new_form_label(OfficerText::of(lang), f));
                None
            }
        };
        let cooperative_id = take(
            parse_count("cooperative_id", &self.cooperative_id, lang),
            errors,
        );
        let product_id = take(
            parse_count("product_id", &self.terms.product_id, lang),
            errors,
        );
        let amount_vnd = take(
            format::parse_vnd("amount_vnd", &self.terms.amount_vnd, lang),
            errors,
        );
        let installments = take(
            parse_count("installments", &self.terms.installments, lang),
            errors,
        );
        let period_months = take(
            parse_count("period_months", &self.terms.period_months, lang),
            errors,
        );
        let principal_grace = if self.terms.principal_grace.trim().is_empty() {
            Some(0)
        } else {
            take(
                parse_count("principal_grace", &self.terms.principal_grace, lang),
                errors,
            )
        };
        let project_total_vnd = take(
            format::parse_vnd("project_total_vnd", &self.terms.project_total_vnd, lang),
            errors,
        );
        let own_capital_vnd = take(
            format::parse_vnd("own_capital_vnd", &self.terms.own_capital_vnd, lang),
            errors,
        );
        let mut collateral = Vec::new();
        for (i, line) in self.collateral.iter().enumerate() {
            if line.kind.trim().is_empty()
                && line.description.trim().is_empty()
                && line.value.trim().is_empty()
            {
                continue; // an empty line is no collateral
            }
            let value = take(
                format::parse_vnd(
                    &format!("collateral[{i}].appraised_value_vnd"),
                    &line.value,
                    lang,
                ),
                errors,
            );
            let discount = parse_percent(
                &format!("collateral[{i}].discount_rate_percent"),
                &line.discount,
                lang,
            );
            let discount = match discount {
                Ok(d) => Some(d),
                Err(err) => {
                    take(Err(err), errors);
                    None
                }
            };
            if let (Some(value), Some(discount)) = (value, discount) {
                collateral.push(NewCollateral {
                    kind: line.kind.trim().to_string(),
                    description: line.description.trim().to_string(),
                    appraised_value_vnd: value,
                    discount_rate_percent: discount,
                });
            }
        }
        let method = match self.terms.method.parse::<Method>() {
            Ok(m) => Some(m),
            Err(_) => {
                take(
                    Err(AppError::invalid("method", crate::error::Reason::Required)),
                    errors,
                );
                None
            }
        };
        if failed {
            return None;
        }
        Some(NewApplication {
            product_id: product_id?.into(),
            cooperative_id: cooperative_id.map(Into::into),
            amount_vnd: amount_vnd?,
            installments: installments?,
            period_months: period_months?,
            method: method?,
            principal_grace,
            purpose: self.terms.purpose.trim().to_string(),
            project_total_vnd: project_total_vnd?,
            own_capital_vnd: own_capital_vnd?,
            collateral,
            no_bad_debt_declared: self.no_bad_debt_declared,
            documents: self
                .documents
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }
}

/// A percentage typed as `30` or `12,5`; 0 when empty; 400 naming `field` otherwise.
fn parse_percent(field: &str, text: &str, lang: Lang) -> AppResult<Decimal> {
    let text = text.trim().trim_end_matches('%').trim().replace(',', ".");
    if text.is_empty() {
        return Ok(Decimal::ZERO);
    }
    text.parse::<Decimal>().map_err(|_| {
        AppError::invalid(
            field,
            crate::error::Reason::InvalidFormat {
                expected: match lang {
                    Lang::Vi => "một tỷ lệ phần trăm, ví dụ 30",
                    Lang::En => "a percentage, e.g. 30",
                },
            },
        )
    })
}

/// The label of `field` on the new application form (`None`: the form does not show it, so its
/// message goes above the form).
fn new_form_label(o: &OfficerText, field: &str) -> Option<String> {
    let label = match field {
        "cooperative_id" => o.cooperative,
        "product_id" => o.product,
        "amount_vnd" => o.amount_vnd,
        "installments" => o.installments,
        "period_months" => o.period_months,
        "method" => o.method,
        "principal_grace" => o.principal_grace,
        "purpose" => o.purpose,
        "project_total_vnd" => o.project_total_vnd,
        "own_capital_vnd" => o.own_capital_vnd,
        "no_bad_debt_declared" => o.no_bad_debt,
        "documents" => o.documents,
        _ => {
            let rest = field.strip_prefix("collateral[")?;
            let (index, name) = rest.split_once("].")?;
            let line = index.parse::<usize>().ok()? + 1;
            let label = match name {
                "kind" => o.collateral_kind,
                "description" => o.collateral_description,
                "appraised_value_vnd" => o.collateral_value,
                "discount_rate_percent" => o.collateral_discount,
                _ => return None,
            };
            return Some(format!("{} {line} – {label}", o.line));
        }
    };
    Some(label.to_string())
}

/// `/applications/new`.
#[derive(Template)]
#[template(path = "applications_new.html")]
pub struct NewPage {
    pub shell: Shell,
    pub o: &'static OfficerText,
    pub form: ApplicationForm,
    pub cooperatives: Vec<(i64, String)>,
    pub products: Vec<Product>,
    pub errors: Errors,
    /// Art 22 on what was typed, when it reads (loan ≤ 80%, own capital ≥ 20%).
    pub project: Option<(Check, Check)>,
    pub methods: [&'static str; 3],
    pub collateral_kinds: Vec<(&'static str, &'static str)>,
}

impl NewPage {
    /// The message for `field`, if refused.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.error_for(field)
    }

    /// The message for field `name` of collateral line `i`.
    pub fn line_error(&self, i: &usize, name: &str) -> Option<&str> {
        self.errors.error_for(&format!("collateral[{i}].{name}"))
    }

    /// The rule's name for people.
    pub fn rule_name(&self, check: &Check) -> &'static str {
        rule_name(self.o, check.rule)
    }
}

fn rule_name(o: &OfficerText, rule: Rule) -> &'static str {
    match rule {
        Rule::ProjectShare => o.rule_loan_share,
        Rule::OwnCapital => o.rule_own_capital,
        Rule::SingleCustomer => o.rule_single,
        Rule::RelatedGroup => o.rule_group,
    }
}

/// The products an application can be made for (the active ones), on the officer's form and the
/// cooperative's own.
pub(super) async fn active_products(
    state: &AppState,
    caller: &crate::app::Caller,
) -> AppResult<Vec<Product>> {
    let filter = ProductFilter {
        active: Some(true),
        limit: Some(200),
        cursor: None,
    };
    Ok(products::list(&state.ctx, caller, filter).await?.items)
}

async fn new_page(
    state: &AppState,
    user: &WebUser,
    mut form: ApplicationForm,
    errors: Errors,
) -> AppResult<NewPage> {
    // Officers take applications for any cooperative (a cooperative drafts its own under /my).
    user.caller.require(&[Role::Officer])?;
    let o = OfficerText::of(user.lang);
    let mut cooperatives: Vec<(i64, String)> =
        super::dashboard::cooperative_names(state, &user.caller)
            .await?
            .into_iter()
            .collect();
    cooperatives.sort_by(|a, b| a.1.cmp(&b.1));
    let products = active_products(state, &user.caller).await?;
    if form.collateral.is_empty() {
        form.collateral.push(CollateralLine::default());
    }
    let lang = user.lang;
    let project = match (
        format::parse_vnd("amount_vnd", &form.terms.amount_vnd, lang),
        format::parse_vnd("project_total_vnd", &form.terms.project_total_vnd, lang),
        format::parse_vnd("own_capital_vnd", &form.terms.own_capital_vnd, lang),
    ) {
        (Ok(amount), Ok(total), Ok(own)) => {
            Some(lending_limits::project_checks(amount, total, own))
        }
        _ => None,
    };
    Ok(NewPage {
        shell: user.shell(state, o.new_application).await,
        o,
        form,
        cooperatives,
        products,
        errors,
        project,
        methods: ["annuity", "equal_principal", "bullet"],
        collateral_kinds: vec![
            ("land_use_right", o.kind_land),
            ("machinery", o.kind_machinery),
            ("deposit", o.kind_deposit),
            ("other", o.kind_other),
        ],
    })
}

/// `GET /applications/new?cooperative_id=`: the form (also what the "check" button and htmx
/// refresh ask for, with what was typed).
pub async fn new_form(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = pairs(query.as_deref().unwrap_or("").as_bytes());
    let form = ApplicationForm::of(&pairs);
    match new_page(&state, &user, form, Errors::default()).await {
        Ok(page) if is_htmx(&headers) => render(&ProjectChecks {
            shell: page.shell,
            o: page.o,
            project: page.project,
        }),
        Ok(page) => render(&page),
        Err(err) => user.fail(&state, err).await,
    }
}

/// Only the project checks (for htmx, as one types).
#[derive(Template)]
#[template(path = "applications_project.html")]
pub struct ProjectChecks {
    pub shell: Shell,
    pub o: &'static OfficerText,
    pub project: Option<(Check, Check)>,
}

impl ProjectChecks {
    /// The rule's name for people.
    pub fn rule_name(&self, check: &Check) -> &'static str {
        rule_name(self.o, check.rule)
    }
}

/// `POST /applications/new`: add or remove a collateral line (the form again), or save the draft
/// (and submit it when asked); a refusal comes back next to its field with what was typed.
pub async fn create(
    State(state): State<AppState>,
    user: WebUser,
    FormPairs(pairs): FormPairs,
) -> Response {
    let mut form = ApplicationForm::of(&pairs);
    let action = first(&pairs, "action");
    let remove = first(&pairs, "remove_line");
    if action == "add_line" || !remove.is_empty() {
        if let Ok(i) = remove.parse::<usize>() {
            if i < form.collateral.len() {
                form.collateral.remove(i);
            }
        } else {
            form.collateral.push(CollateralLine::default());
        }
        return user
            .page(&state, new_page(&state, &user, form, Errors::default()))
            .await;
    }
    let mut errors = Errors::default();
    let lang = user.lang;
    let outcome = match form.command(lang, &mut errors) {
        Some(command) => applications::create(&state.ctx, &user.caller, command).await,
        None => Err(AppError::invalid("form", crate::error::Reason::Required)),
    };
    let created = match outcome {
        Ok(created) => created,
        Err(err) if matches!(err.kind, ErrorKind::Forbidden | ErrorKind::Internal) => {
            return user.fail(&state, err).await
        }
        Err(err) => {
            if !errors.any() {
                errors.place_by(&err, lang, |f| new_form_label(OfficerText::of(lang), f));
            }
            let status = crate::http::error::status_of(err.kind);
            return user
                .page_with(&state, status, new_page(&state, &user, form, errors))
                .await;
        }
    };
    let mut done = "created";
    if action == "submit" {
        match applications::submit(&state.ctx, &user.caller, created.id, None).await {
            Ok(_) => done = "submitted",
            Err(err) => return user.fail(&state, err).await,
        }
    }
    Redirect::to(&format!("/applications/{}?done={done}", created.id)).into_response()
}

// ----- the application page -----

/// What the appraiser typed.
#[derive(Debug, Default, Clone)]
pub struct AppraisalForm {
    pub note: String,
    pub recommendation: String,
}

/// `/applications/{id}`.
#[derive(Template)]
#[template(path = "applications_show.html")]
pub struct ShowPage {
    pub shell: Shell,
    pub o: &'static OfficerText,
    pub app: Application,
    pub cooperative: String,
    pub product: String,
    pub checks: ApplicationChecks,
    pub people: HashMap<i64, String>,
    pub can_submit: bool,
    pub can_appraise: bool,
    pub can_decide: bool,
    pub appraisal: AppraisalForm,
    pub reason: String,
    /// The idempotency key of the approval form.
    pub key: String,
    pub errors: Errors,
    /// What was just done (after a redirect).
    pub done: Option<&'static str>,
}

impl ShowPage {
    /// The message for `field`, if refused.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.error_for(field)
    }

    /// The name of user `id`, or "not yet".
    pub fn who(&self, id: &Option<UserId>) -> String {
        match id {
            Some(id) => self
                .people
                .get(&id.get())
                .cloned()
                .unwrap_or_else(|| format!("#{id}")),
            None => self.o.nobody_yet.to_string(),
        }
    }

    /// The rule's name for people.
    pub fn rule_name(&self, check: &Check) -> &'static str {
        rule_name(self.o, check.rule)
    }

    /// The cap's name for people.
    pub fn cap_name(&self, cap: &coopfund_domain::limits::Cap) -> &'static str {
        match cap {
            coopfund_domain::limits::Cap::Rate => self.o.cap_rate,
            coopfund_domain::limits::Cap::OverdueMultiplier => self.o.cap_overdue,
            coopfund_domain::limits::Cap::LateRate => self.o.cap_late,
        }
    }

    /// A rate or multiplier as people write it in the page language.
    pub fn number(&self, value: &Decimal) -> String {
        let text = value.normalize().to_string();
        match self.shell.lang {
            Lang::Vi => text.replace('.', ","),
            Lang::En => text,
        }
    }

    /// A rate against its cap, with its unit: `9 %/năm ≤ 20 %/năm`, `1,5 × ≤ 1,5 ×`.
    pub fn cap_line(&self, check: &lending_limits::RateCheck) -> String {
        let lang = self.shell.lang;
        match check.cap {
            coopfund_domain::limits::Cap::OverdueMultiplier => format!(
                "{} × ≤ {} ×",
                self.number(&check.value),
                self.number(&check.max)
            ),
            _ => format!(
                "{} ≤ {}",
                format::rate(check.value, lang),
                format::rate(check.max, lang)
            ),
        }
    }

    /// The recommendation's words.
    pub fn recommendation(&self) -> &'static str {
        match self.app.appraisal_recommendation {
            Some(Recommendation::Approve) => self.o.rec_approve,
            Some(Recommendation::Reject) => self.o.rec_reject,
            None => "",
        }
    }

    /// The refusal approval would give now, in the page language.
    pub fn verdict(&self) -> Option<String> {
        self.checks
            .refusal
            .as_ref()
            .map(|e| e.message.get(self.shell.lang).to_string())
    }

    /// The collateral kind's name.
    pub fn collateral_kind(&self, kind: &str) -> String {
        match kind {
            "land_use_right" => self.o.kind_land.into(),
            "machinery" => self.o.kind_machinery.into(),
            "deposit" => self.o.kind_deposit.into(),
            "other" => self.o.kind_other.into(),
            other => other.to_string(),
        }
    }
}

/// The forms of the page as typed, and their refusals.
#[derive(Default)]
struct Typed {
    appraisal: AppraisalForm,
    reason: String,
    key: String,
    errors: Errors,
    done: Option<&'static str>,
}

async fn show_page(
    state: &AppState,
    user: &WebUser,
    id: ApplicationId,
    typed: Typed,
) -> AppResult<ShowPage> {
    // The checks are the staff's (403 for anyone else), then the application (404 if not theirs).
    let checks = lending_limits::for_application(&state.ctx, &user.caller, id).await?;
    let app = applications::get(&state.ctx, &user.caller, id).await?;
    let people = applications::people(&state.ctx, &user.caller, id).await?;
    let cooperative = cooperatives::get(&state.ctx, &user.caller, app.cooperative_id)
        .await?
        .name;
    let product = products::get(&state.ctx, &user.caller, app.product_id).await?;
    let role = user.caller.role();
    let o = OfficerText::of(user.lang);
    let title = format!("{} {}", o.applications_title, app.number);
    Ok(ShowPage {
        shell: user.shell(state, &title).await,
        o,
        can_submit: role == Role::Officer && app.status == Status::Draft,
        can_appraise: role == Role::Officer
            && matches!(app.status, Status::Submitted | Status::InAppraisal),
        can_decide: role == Role::Approver
            && matches!(app.status, Status::Appraised | Status::AwaitingCouncil),
        product: format!("{} – {}", product.code, product.name),
        app,
        cooperative,
        checks,
        people,
        appraisal: typed.appraisal,
        reason: typed.reason,
        key: key_or_new(&typed.key),
        errors: typed.errors,
        done: typed.done,
    })
}

/// `GET /applications/{id}?done=`.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<ApplicationId>,
    PageQuery(Done { done }): PageQuery<Done>,
) -> Response {
    let o = OfficerText::of(user.lang);
    let done = match done.as_str() {
        "created" => Some(o.done_created),
        "submitted" => Some(o.done_submitted),
        "appraised" => Some(o.done_appraised),
        "approved" => Some(o.done_approved),
        "council" => Some(o.done_council),
        "rejected" => Some(o.done_rejected),
        _ => None,
    };
    user.page(&state, async {
        show_page(
            &state,
            &user,
            id,
            Typed {
                done,
                ..Default::default()
            },
        )
        .await
    })
    .await
}

/// An action on application `id` refused: a page of its own (not found, not allowed, our own
/// failure), or the application page again with the refusal next to its field.
async fn refused(
    state: &AppState,
    user: &WebUser,
    id: ApplicationId,
    err: AppError,
    mut typed: Typed,
) -> AppResult<Response> {
    let o = OfficerText::of(user.lang);
    let labels = [
        ("note", o.appraisal_note),
        ("recommendation", o.recommendation),
        ("reason", o.reason),
    ];
    typed.errors.refuse(err, user.lang, &labels)?;
    let status = typed.errors.status();
    Ok(render_with(
        status,
        &show_page(state, user, id, typed).await?,
    ))
}

/// What an action on application `id` answers: back to the application, saying what was `done`
/// (none: nothing new to say), or its refusal on the application page.
async fn done_or_refused(
    state: &AppState,
    user: &WebUser,
    id: ApplicationId,
    outcome: AppResult<Option<&str>>,
    typed: Typed,
) -> AppResult<Response> {
    match outcome {
        Ok(Some(done)) => {
            Ok(Redirect::to(&format!("/applications/{id}?done={done}")).into_response())
        }
        Ok(None) => Ok(Redirect::to(&format!("/applications/{id}")).into_response()),
        Err(err) => refused(state, user, id, err, typed).await,
    }
}

/// `GET /applications/{id}/<action>`: the application page (where a form posted from; the
/// language switch and a reload come back here).
pub async fn back_to_application(Path(id): Path<String>) -> Response {
    let id: i64 = id.parse().unwrap_or(0);
    Redirect::to(&format!("/applications/{id}")).into_response()
}

/// An action of the application page, as typed: what its use case is asked to do.
enum Action {
    /// Draft → submitted.
    Submit,
    /// The officer's note and recommendation.
    Appraise(AppraisalForm),
    /// The approver's approval, with its reason (optional) and the key of the rendered form.
    Approve { reason: String, key: String },
    /// The approver's rejection, with its reason (required).
    Reject { reason: String },
}

impl Action {
    /// The page's forms as they were typed, kept when the action is refused.
    fn typed(&self) -> Typed {
        match self {
            Action::Submit => Typed::default(),
            Action::Appraise(form) => Typed {
                appraisal: form.clone(),
                ..Default::default()
            },
            Action::Approve { reason, key } => Typed {
                reason: reason.clone(),
                key: key.clone(),
                ..Default::default()
            },
            Action::Reject { reason } => Typed {
                reason: reason.clone(),
                ..Default::default()
            },
        }
    }

    /// Runs the action on application `id` through its use case: what was done (the notice the
    /// application page shows), none when there is nothing new to say.
    async fn run(
        &self,
        state: &AppState,
        user: &WebUser,
        id: ApplicationId,
    ) -> AppResult<Option<&'static str>> {
        let (ctx, caller) = (&state.ctx, &user.caller);
        match self {
            Action::Submit => {
                applications::submit(ctx, caller, id, None).await?;
                Ok(Some("submitted"))
            }
            Action::Appraise(form) => {
                let recommendation =
                    form.recommendation.parse::<Recommendation>().map_err(|_| {
                        AppError::invalid("recommendation", crate::error::Reason::Required)
                    })?;
                let appraisal = Appraisal {
                    note: form.note.trim().to_string(),
                    recommendation,
                };
                applications::appraise(ctx, caller, id, appraisal).await?;
                Ok(Some("appraised"))
            }
            Action::Approve { reason, key } => {
                let key = keyed(
                    key,
                    &ApprovalFingerprint {
                        reason: reason.trim(),
                    },
                )?;
                let approved =
                    applications::approve_keyed(ctx, caller, id, given(reason), Some(&key)).await?;
                Ok(match approved {
                    Idempotent::Fresh(app) if app.status == Status::AwaitingCouncil => {
                        Some("council")
                    }
                    Idempotent::Fresh(_) => Some("approved"),
                    // The first submission of this form approved already: back to the application.
                    Idempotent::Replayed { .. } => None,
                })
            }
            Action::Reject { reason } => {
                applications::reject(ctx, caller, id, given(reason)).await?;
                Ok(Some("rejected"))
            }
        }
    }
}

/// A reason as the use case reads it: trimmed, none when nothing was typed.
fn given(reason: &str) -> Option<String> {
    Some(reason.trim().to_string()).filter(|r| !r.is_empty())
}

/// What the approval key fingerprints: the approval as the use case reads it.
#[derive(Serialize)]
struct ApprovalFingerprint<'a> {
    reason: &'a str,
}

/// The frame of every action on application `{id}`: the action through its use case, then back
/// to the application saying what was done, or its refusal on the application page.
async fn act(state: &AppState, user: &WebUser, id: ApplicationId, action: Action) -> Response {
    user.answer(state, async {
        let outcome = action.run(state, user, id).await;
        done_or_refused(state, user, id, outcome, action.typed()).await
    })
    .await
}

/// `POST /applications/{id}/submit`: draft → submitted.
pub async fn submit(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<ApplicationId>,
) -> Response {
    act(&state, &user, id, Action::Submit).await
}

/// `POST /applications/{id}/appraise`: the note and recommendation of an officer.
pub async fn appraise(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<ApplicationId>,
    FormPairs(pairs): FormPairs,
) -> Response {
    let appraisal = Action::Appraise(AppraisalForm {
        note: first(&pairs, "note"),
        recommendation: first(&pairs, "recommendation"),
    });
    act(&state, &user, id, appraisal).await
}

/// `POST /applications/{id}/approve`: once per rendered form (a double click approves once).
pub async fn approve(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<ApplicationId>,
    FormPairs(pairs): FormPairs,
) -> Response {
    let approval = Action::Approve {
        reason: first(&pairs, "reason"),
        key: first(&pairs, "key"),
    };
    act(&state, &user, id, approval).await
}

/// `POST /applications/{id}/reject`: with a reason (required).
pub async fn reject(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<ApplicationId>,
    FormPairs(pairs): FormPairs,
) -> Response {
    let reason = first(&pairs, "reason");
    act(&state, &user, id, Action::Reject { reason }).await
}
