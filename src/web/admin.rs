//! The administrator's pages: users, loan products, the outbox with retry, the configuration in
//! force (read only, secrets hidden).
//!
//! | route | what | use case |
//! |---|---|---|
//! | `GET /admin/users` | every account | [`users::list`] |
//! | `GET/POST /admin/users/new` | add an account (role; a cooperative account bound to its cooperative) | [`users::create`] |
//! | `GET /admin/users/{id}` | one account: disable / re-enable, set a new password | [`users::get`] |
//! | `POST /admin/users/{id}/disabled` | disable or re-enable | [`users::change`] |
//! | `POST /admin/users/{id}/password` | a new password (ends its sessions, clears a lockout) | [`users::change`] |
//! | `GET /admin/products` | loan products | [`products::list`] |
//! | `GET/POST /admin/products/new` | create | [`products::create`] |
//! | `GET/POST /admin/products/{id}` | edit (the version read is sent back: a concurrent edit is refused) | [`products::update`] |
//! | `GET /admin/outbox` | messages by state, failed ones with their error | [`outbox::list`] |
//! | `POST /admin/outbox/{id}/retry` | put a failed message back in the queue | [`outbox::retry`] |
//! | `GET /admin/config` | the configuration in force, secrets hidden | [`configuration::in_force`] |
//!
//! Every page asks the same use case as the API, so the role check is the use case's: another
//! role gets the 403 page. A refused form comes back with each message next to its field and what
//! was typed kept; a form that worked redirects (303) to the page that shows the result, so a
//! reload never sends it again.

use askama::Template;
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use coopfund_domain::{
    ids::{CooperativeId, OutboxMessageId, ProductId, UserId},
    DayCount, Method, PrepaymentRule,
};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::form::{link, Done, FormPairs, PageQuery};
use super::{
    dashboard::cooperative_names,
    form::{all, first, pairs, Errors},
    format, render, Shell, WebUser,
};
use crate::{
    app::{
        configuration::{self, SettingSection, SettingValue},
        outbox::{self, OutboxFilter, OutboxMessage, STATUSES},
        page::PageRequest,
        products::{
            self, Product, ProductChanges, ProductDraft, ProductFilter, ProductOptions, DAY_COUNTS,
            METHODS, PERIOD_MONTHS, PREPAYMENT_RULES,
        },
        users::{self, AccountChange, NewAccount, User},
    },
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Lang, Reason},
    state::AppState,
};

/// Adds this area's pages to the site's router.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/users", get(users_page))
        .route("/admin/users/new", get(new_user_page).post(create_user))
        .route("/admin/users/{id}", get(user_page))
        .route("/admin/users/{id}/disabled", post(set_disabled))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/users/{id}/role", post(change_role))
        .route("/admin/products", get(products_page))
        .route(
            "/admin/products/new",
            get(new_product_page).post(create_product),
        )
        .route(
            "/admin/products/{id}",
            get(product_page).post(update_product),
        )
        .route("/admin/outbox", get(outbox_page))
        .route("/admin/outbox/{id}/retry", post(retry_message))
        .route("/admin/config", get(config_page))
}

crate::texts! {
    AdminText, ADMIN_VI, ADMIN_EN;
    users_title: "Người dùng", "Users";
    add_user: "Thêm người dùng", "Add a user";
    new_user_title: "Thêm người dùng mới", "New user";
    user_title: "Tài khoản", "Account";
    username: "Tên đăng nhập", "Username";
    username_hint: "Chữ thường không dấu, số, dấu chấm, gạch dưới, gạch ngang.", "Lower-case letters, digits, dot, underscore, hyphen.";
    full_name: "Họ và tên", "Full name";
    email: "Thư điện tử", "Email";
    password: "Mật khẩu", "Password";
    password_hint: "Từ 10 đến 128 ký tự.", "10 to 128 characters.";
    new_password: "Mật khẩu mới", "New password";
    role: "Vai trò", "Role";
    cooperative: "Hợp tác xã", "Cooperative";
    cooperative_hint: "Chỉ cho tài khoản vai trò Hợp tác xã: tài khoản chỉ thấy dữ liệu của HTX này.", "Only for a Cooperative account: it sees only this cooperative's data.";
    no_cooperative: "— Không gắn —", "— None —";
    language: "Ngôn ngữ thư và trang", "Language of mail and pages";
    lang_vi: "Tiếng Việt", "Vietnamese";
    lang_en: "Tiếng Anh", "English";
    state: "Trạng thái", "State";
    enabled: "Đang hoạt động", "Active";
    disabled: "Đã khóa", "Disabled";
    created_at: "Ngày tạo", "Created";
    disable: "Khóa tài khoản", "Disable the account";
    enable: "Mở khóa tài khoản", "Re-enable the account";
    disable_hint: "Khóa tài khoản sẽ đăng xuất người dùng khỏi mọi phiên.", "Disabling ends every session of the account.";
    reset_password: "Đặt lại mật khẩu", "Reset the password";
    reset_hint: "Mật khẩu mới chấm dứt mọi phiên đăng nhập và gỡ khóa do nhập sai.", "A new password ends every session and clears a lockout.";
    create: "Tạo", "Create";
    save: "Lưu", "Save";
    cancel: "Hủy", "Cancel";
    back_to_users: "Danh sách người dùng", "All users";
    fix_errors: "Chưa lưu được. Hãy sửa các ô được đánh dấu bên dưới.", "Not saved. Please correct the marked fields below.";
    done_created: "Đã tạo tài khoản.", "The account was created.";
    done_disabled: "Đã khóa tài khoản.", "The account was disabled.";
    done_enabled: "Đã mở khóa tài khoản.", "The account was re-enabled.";
    done_password: "Đã đặt mật khẩu mới.", "The new password is set.";
    done_role: "Đã đổi vai trò; người dùng phải đăng nhập lại.", "The role was changed; the user must log in again.";
    change_role: "Đổi vai trò", "Change the role";
    role_hint: "Đổi vai trò chấm dứt mọi phiên đăng nhập của tài khoản.", "A new role ends every session of the account.";
    done_product_created: "Đã tạo sản phẩm vay.", "The loan product was created.";
    done_product_saved: "Đã lưu sản phẩm vay.", "The loan product was saved.";
    done_retried: "Thư đã được đưa lại vào hàng đợi gửi.", "The message is back in the sending queue.";
    products_title: "Sản phẩm vay", "Loan products";
    add_product: "Thêm sản phẩm vay", "Add a loan product";
    new_product_title: "Sản phẩm vay mới", "New loan product";
    edit_product_title: "Sửa sản phẩm vay", "Edit loan product";
    no_products: "Chưa có sản phẩm vay nào.", "No loan product yet.";
    code: "Mã", "Code";
    name: "Tên", "Name";
    description: "Mô tả", "Description";
    rate_percent: "Lãi suất trong hạn (%/năm)", "In-term rate (% per year)";
    rate_hint: "Tối đa 20 %/năm (Bộ luật Dân sự 2015 Điều 468). Ví dụ 7,2", "At most 20 % per year (Civil Code 2015 Art 468). E.g. 7.2";
    methods: "Phương pháp trả nợ", "Repayment methods";
    period_months: "Kỳ trả nợ (tháng)", "Repayment period (months)";
    months: "tháng", "months";
    min_amount_vnd: "Số tiền vay tối thiểu (đồng)", "Smallest amount (đồng)";
    max_amount_vnd: "Số tiền vay tối đa (đồng)", "Largest amount (đồng)";
    min_installments: "Số kỳ tối thiểu", "Fewest installments";
    max_installments: "Số kỳ tối đa", "Most installments";
    max_principal_grace: "Số kỳ ân hạn gốc tối đa", "Most installments of principal grace";
    day_count: "Cách tính ngày", "Day count";
    actual_365: "Thực tế/365", "Actual/365";
    per_period: "Theo kỳ", "Per period";
    installment_unit_vnd: "Làm tròn kỳ trả đến bội số (đồng)", "Round installments to a multiple of (đồng)";
    overdue_multiplier: "Hệ số lãi quá hạn", "Overdue rate multiplier";
    overdue_multiplier_hint: "Lãi quá hạn = lãi trong hạn × hệ số; tối đa 1,5 (150 %).", "Overdue rate = in-term rate × multiplier; at most 1.5 (150 %).";
    late_rate_percent: "Lãi chậm trả trên lãi chưa trả (%/năm)", "Late interest on unpaid interest (% per year)";
    late_rate_hint: "Tối đa 10 %/năm.", "At most 10 % per year.";
    prepayment_rule: "Khi trả trước hạn", "On prepayment";
    shorten_term: "Rút ngắn thời hạn", "Shorten the term";
    reamortize: "Giữ thời hạn, giảm số tiền mỗi kỳ", "Keep the term, lower each installment";
    collateral_free_limit_vnd: "Hạn mức không cần tài sản bảo đảm (đồng)", "Limit without collateral (đồng)";
    active: "Đang áp dụng cho hồ sơ mới", "Open to new applications";
    amounts: "Số tiền vay", "Amounts";
    installments: "Số kỳ", "Installments";
    allocation_order: "Thứ tự phân bổ khoản thu", "Allocation order";
    version: "Phiên bản", "Version";
    edit: "Sửa", "Edit";
    yes: "Có", "Yes";
    no: "Không", "No";
    outbox_title: "Thư gửi đi", "Outgoing mail";
    outbox_filter: "Lọc theo trạng thái", "Filter by state";
    all_states: "Tất cả", "All";
    show: "Xem", "Show";
    no_messages: "Không có thư nào.", "No message.";
    created: "Tạo lúc", "Created";
    kind: "Loại", "Kind";
    recipient: "Người nhận", "Recipient";
    subject: "Tiêu đề", "Subject";
    attempts: "Số lần gửi", "Attempts";
    last_error: "Lỗi gần nhất", "Last error";
    next_attempt: "Gửi lần tới", "Next attempt";
    sent_at: "Đã gửi lúc", "Sent at";
    retry: "Gửi lại", "Retry";
    next_page: "Trang sau", "Next page";
    status_pending: "Chờ gửi", "Waiting";
    status_sending: "Đang gửi", "Sending";
    status_sent: "Đã gửi", "Sent";
    status_failed: "Gửi thất bại", "Failed";
    config_title: "Cấu hình đang áp dụng", "Configuration in force";
    config_intro: "Chỉ đọc. Giá trị lấy từ cấu hình mặc định, tệp cấu hình và biến môi trường COOPFUND__* khi khởi động; mật khẩu, khóa và mã bí mật được ẩn.", "Read only. The values come from the defaults, the configuration file and COOPFUND__* variables at start; passwords, keys and secrets are hidden.";
    key: "Khóa", "Key";
    value: "Giá trị", "Value";
    hidden_set: "•••• (đã đặt, được ẩn)", "•••• (set, hidden)";
    hidden_unset: "(chưa đặt)", "(not set)";
    empty: "(trống)", "(empty)";
}

/// This area's strings in `lang`.
pub fn admin_text(lang: Lang) -> &'static AdminText {
    AdminText::of(lang)
}

/// The status a refused form is answered with.
fn status_of(err: &AppError) -> StatusCode {
    crate::http::error::status_of(err.kind)
}

fn id_of(text: &str) -> AppResult<i64> {
    super::path_id(text, "trang", "Page")
}

/// A typed percentage or multiplier: `7,2`, `7.2`, `7,2 %`; 400 naming `field` otherwise.
pub fn parse_decimal(field: &str, text: &str) -> AppResult<Decimal> {
    let trimmed = text
        .trim()
        .trim_end_matches("/năm")
        .trim_end_matches("/yr")
        .trim()
        .trim_end_matches('%')
        .trim();
    if trimmed.is_empty() {
        return Err(AppError::invalid(field, Reason::Required));
    }
    // A rate has no thousands: a comma or a dot is the decimal mark, in either language.
    Decimal::from_str_exact(&trimmed.replace(',', "."))
        .map_err(|_| AppError::invalid(field, Reason::InvalidFormat { expected: "7,2" }))
}

/// A decimal as typed back into a form in `lang` (`7,25` in Vietnamese).
fn decimal_text(value: Decimal, lang: Lang) -> String {
    let text = value.normalize().to_string();
    match lang {
        Lang::Vi => text.replace('.', ","),
        Lang::En => text,
    }
}

// ----- users -----

/// One account as a line of the list.
pub struct UserRow {
    pub user: User,
    pub cooperative: String,
}

/// `/admin/users`.
#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    pub shell: Shell,
    pub a: &'static AdminText,
    pub rows: Vec<UserRow>,
}

/// `GET /admin/users`.
pub async fn users_page(State(state): State<AppState>, user: WebUser) -> Response {
    user.page(&state, async {
        let accounts = users::list(&state.ctx, &user.caller).await?;
        let names = cooperative_names(&state, &user.caller).await?;
        let a = admin_text(user.lang);
        Ok::<_, AppError>(UsersPage {
            shell: user.shell(&state, a.users_title).await,
            a,
            rows: accounts
                .into_iter()
                .map(|account| UserRow {
                    cooperative: account
                        .cooperative_id
                        .map(|id| {
                            names
                                .get(&id.get())
                                .cloned()
                                .unwrap_or_else(|| format!("#{id}"))
                        })
                        .unwrap_or_default(),
                    user: account,
                })
                .collect(),
        })
    })
    .await
}

/// The new-account form as typed.
#[derive(Debug, Default, Clone)]
pub struct UserForm {
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub role: String,
    pub cooperative_id: String,
    pub language: String,
}

/// `/admin/users/new`.
#[derive(Template)]
#[template(path = "admin_user_new.html")]
pub struct NewUserPage {
    pub shell: Shell,
    pub a: &'static AdminText,
    pub form: UserForm,
    pub roles: Vec<(&'static str, String)>,
    /// (id, name), by name.
    pub cooperatives: Vec<(i64, String)>,
    pub errors: Errors,
}

impl NewUserPage {
    /// Whether `code` is the role chosen.
    pub fn is_role(&self, code: &str) -> bool {
        self.form.role == code
    }

    /// Whether cooperative `id` is the one chosen.
    pub fn is_cooperative(&self, id: &i64) -> bool {
        self.form.cooperative_id.trim() == id.to_string()
    }
}

fn user_label(field: &str, a: &'static AdminText) -> Option<&'static str> {
    Some(match field {
        "username" => a.username,
        "full_name" => a.full_name,
        "email" => a.email,
        "password" => a.password,
        "role" => a.role,
        "cooperative_id" => a.cooperative,
        "language" => a.language,
        _ => return None,
    })
}

async fn new_user_form(
    state: &AppState,
    user: &WebUser,
    form: UserForm,
    errors: Errors,
) -> AppResult<NewUserPage> {
    user.caller.require(&[Role::Admin])?;
    let names = cooperative_names(state, &user.caller).await?;
    let mut cooperatives: Vec<(i64, String)> = names.into_iter().collect();
    cooperatives.sort_by(|x, y| x.1.cmp(&y.1));
    let a = admin_text(user.lang);
    Ok(NewUserPage {
        shell: user.shell(state, a.new_user_title).await,
        a,
        roles: Role::ALL
            .into_iter()
            .map(|r| (r.as_str(), super::text::label(r.as_str(), user.lang)))
            .collect(),
        cooperatives,
        form,
        errors,
    })
}

/// `GET /admin/users/new`.
pub async fn new_user_page(State(state): State<AppState>, user: WebUser) -> Response {
    let form = UserForm {
        role: Role::Officer.as_str().into(),
        language: Lang::Vi.code().into(),
        ..Default::default()
    };
    user.page(
        &state,
        new_user_form(&state, &user, form, Errors::default()),
    )
    .await
}

/// `POST /admin/users/new`.
pub async fn create_user(
    State(state): State<AppState>,
    user: WebUser,
    FormPairs(fields): FormPairs,
) -> Response {
    let form = UserForm {
        username: first(&fields, "username"),
        full_name: first(&fields, "full_name"),
        email: first(&fields, "email"),
        role: first(&fields, "role"),
        cooperative_id: first(&fields, "cooperative_id"),
        language: first(&fields, "language"),
    };
    let password = first(&fields, "password");
    let a = admin_text(user.lang);
    let mut errors = Errors::default();
    let result = async {
        let role = Role::parse(&form.role).ok_or_else(|| {
            AppError::invalid(
                "role",
                Reason::UnknownValue {
                    allowed: Role::ALL.map(Role::as_str).join(", "),
                },
            )
        })?;
        let cooperative_id = match form.cooperative_id.trim() {
            "" => None,
            text => Some(CooperativeId::new(text.parse::<i64>().map_err(|_| {
                AppError::not_found("hợp tác xã", "Cooperative").with_field("cooperative_id")
            })?)),
        };
        let language = Lang::parse(&form.language).unwrap_or_default();
        users::create(
            &state.ctx,
            &user.caller,
            NewAccount {
                username: form.username.clone(),
                password,
                role,
                full_name: Some(form.full_name.clone()),
                email: Some(form.email.clone()),
                cooperative_id,
                language,
            },
        )
        .await
    }
    .await;
    match result {
        Ok(created) => {
            Redirect::to(&format!("/admin/users/{}?done=created", created.id)).into_response()
        }
        Err(err) if err.kind == ErrorKind::Forbidden => user.fail(&state, err).await,
        Err(err) => {
            let status = status_of(&err);
            errors.place_by(&err, user.lang, |f| user_label(f, a));
            user.page_with(&state, status, new_user_form(&state, &user, form, errors))
                .await
        }
    }
}

/// `/admin/users/{id}`.
#[derive(Template)]
#[template(path = "admin_user.html")]
pub struct UserPage {
    pub shell: Shell,
    pub a: &'static AdminText,
    pub account: User,
    pub cooperative: String,
    pub done: Option<&'static str>,
    pub errors: Errors,
    /// Whether this is the logged-in admin's own account (it cannot be disabled or demoted).
    pub is_me: bool,
    pub roles: Vec<(&'static str, String)>,
    /// (id, name), by name.
    pub cooperatives: Vec<(i64, String)>,
}

async fn user_view(
    state: &AppState,
    user: &WebUser,
    id: i64,
    done: &str,
    errors: Errors,
) -> AppResult<UserPage> {
    let account = users::get(&state.ctx, &user.caller, UserId::new(id)).await?;
    let names = cooperative_names(state, &user.caller).await?;
    let cooperative = match account.cooperative_id {
        Some(coop) => names
            .get(&coop.get())
            .cloned()
            .unwrap_or_else(|| format!("#{coop}")),
        None => String::new(),
    };
    let mut cooperatives: Vec<(i64, String)> = names.into_iter().collect();
    cooperatives.sort_by(|x, y| x.1.cmp(&y.1));
    let a = admin_text(user.lang);
    let done = match done {
        "created" => Some(a.done_created),
        "disabled" => Some(a.done_disabled),
        "enabled" => Some(a.done_enabled),
        "password" => Some(a.done_password),
        "role" => Some(a.done_role),
        _ => None,
    };
    Ok(UserPage {
        shell: user
            .shell(state, &format!("{} {}", a.user_title, account.username))
            .await,
        a,
        is_me: user.caller.user_id() == Some(account.id.get()),
        roles: Role::ALL
            .into_iter()
            .map(|r| (r.as_str(), super::text::label(r.as_str(), user.lang)))
            .collect(),
        cooperatives,
        account,
        cooperative,
        done,
        errors,
    })
}

impl UserPage {
    /// Whether `code` is the account's role.
    pub fn is_role(&self, code: &str) -> bool {
        self.account.role.as_str() == code
    }

    /// Whether the account is bound to cooperative `id`.
    pub fn is_cooperative(&self, id: &i64) -> bool {
        self.account.cooperative_id.map(CooperativeId::get) == Some(*id)
    }

    /// The day the account was made, `dd/mm/yyyy`.
    pub fn created_on(&self) -> String {
        format::date(self.account.created_at.date_naive())
    }
}

/// `GET /admin/users/{id}`.
pub async fn user_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    PageQuery(Done { done }): PageQuery<Done>,
) -> Response {
    let result = async { user_view(&state, &user, id_of(&id)?, &done, Errors::default()).await };
    user.page(&state, result).await
}

/// Runs `change` on account `id`; on success redirects to its page with `done`, else shows the
/// page with the refusal placed.
async fn change_account(
    state: &AppState,
    user: &WebUser,
    id: &str,
    change: AccountChange,
    done: &str,
) -> Response {
    let id = match id_of(id) {
        Ok(id) => id,
        Err(err) => return user.fail(state, err).await,
    };
    match users::change(&state.ctx, &user.caller, UserId::new(id), change).await {
        Ok(_) => Redirect::to(&format!("/admin/users/{id}?done={done}")).into_response(),
        Err(err) if matches!(err.kind, ErrorKind::Forbidden | ErrorKind::NotFound) => {
            user.fail(state, err).await
        }
        Err(err) => {
            let a = admin_text(user.lang);
            let mut errors = Errors::default();
            errors.place_by(&err, user.lang, |f| match f {
                "password" => Some(a.new_password),
                "disabled" => Some(a.state),
                "role" => Some(a.role),
                "cooperative_id" => Some(a.cooperative),
                _ => None,
            });
            user.page_with(
                state,
                status_of(&err),
                user_view(state, user, id, "", errors),
            )
            .await
        }
    }
}

/// `POST /admin/users/{id}/disabled` with `disabled=true|false`.
pub async fn set_disabled(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let disabled = first(&pairs(&body), "disabled") == "true";
    let change = AccountChange {
        disabled: Some(disabled),
        ..Default::default()
    };
    let done = if disabled { "disabled" } else { "enabled" };
    change_account(&state, &user, &id, change, done).await
}

/// `POST /admin/users/{id}/role` with `role` and `cooperative_id` (empty for none).
pub async fn change_role(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    FormPairs(fields): FormPairs,
) -> Response {
    let role = first(&fields, "role");
    let Some(role) = Role::parse(&role) else {
        let err = AppError::invalid(
            "role",
            Reason::UnknownValue {
                allowed: Role::ALL.map(Role::as_str).join(", "),
            },
        );
        return user.fail(&state, err).await;
    };
    let cooperative_id = match first(&fields, "cooperative_id").trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(id) => Some(CooperativeId::new(id)),
            Err(_) => {
                let err = AppError::not_found("hợp tác xã", "Cooperative");
                return user.fail(&state, err).await;
            }
        },
    };
    let change = AccountChange {
        role: Some((role, cooperative_id)),
        ..Default::default()
    };
    change_account(&state, &user, &id, change, "role").await
}

/// `POST /admin/users/{id}/password` with `password`.
pub async fn reset_password(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let change = AccountChange {
        password: Some(first(&pairs(&body), "password")),
        ..Default::default()
    };
    change_account(&state, &user, &id, change, "password").await
}

// ----- products -----

/// `/admin/products`.
#[derive(Template)]
#[template(path = "admin_products.html")]
pub struct ProductsPage {
    pub shell: Shell,
    pub a: &'static AdminText,
    pub items: Vec<Product>,
    pub next_href: Option<String>,
}

impl ProductsPage {
    /// The product's methods in the page's words.
    pub fn methods(&self, product: &Product) -> String {
        product
            .methods
            .iter()
            .map(|m| self.shell.label(m.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The product's periods, `1, 3 tháng`.
    pub fn periods(&self, product: &Product) -> String {
        let list: Vec<String> = product.period_months.iter().map(i64::to_string).collect();
        format!("{} {}", list.join(", "), self.a.months)
    }
}

/// `?cursor=` of a list page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    cursor: String,
    status: String,
    done: String,
}

/// `GET /admin/products`.
pub async fn products_page(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(q): PageQuery<ListQuery>,
) -> Response {
    user.page(&state, async {
        // Reading is for everyone; this page is the admin's (it leads to the forms).
        user.caller.require(&[Role::Admin])?;
        let page = products::list(
            &state.ctx,
            &user.caller,
            ProductFilter {
                active: None,
                limit: Some(50),
                cursor: Some(q.cursor).filter(|c| !c.is_empty()),
            },
        )
        .await?;
        let a = admin_text(user.lang);
        Ok::<_, AppError>(ProductsPage {
            shell: user.shell(&state, a.products_title).await,
            a,
            next_href: page
                .next_cursor
                .map(|c| format!("/admin/products?cursor={c}")),
            items: page.items,
        })
    })
    .await
}

/// The product form as typed (every field a text, as the browser sends it).
#[derive(Debug, Default, Clone)]
pub struct ProductForm {
    pub code: String,
    pub name: String,
    pub description: String,
    pub rate_percent: String,
    pub methods: Vec<String>,
    pub period_months: Vec<String>,
    pub min_amount_vnd: String,
    pub max_amount_vnd: String,
    pub min_installments: String,
    pub max_installments: String,
    pub max_principal_grace: String,
    pub day_count: String,
    pub installment_unit_vnd: String,
    pub overdue_multiplier: String,
    pub late_rate_percent: String,
    pub prepayment_rule: String,
    pub collateral_free_limit_vnd: String,
    pub active: bool,
    /// The version read, for an edit.
    pub version: String,
}

impl ProductForm {
    /// A new product's form: DOMAIN.md's defaults.
    fn defaults(lang: Lang) -> ProductForm {
        ProductForm {
            methods: vec!["annuity".into()],
            period_months: vec!["1".into()],
            min_installments: "1".into(),
            max_installments: "60".into(),
            max_principal_grace: "0".into(),
            day_count: "actual_365".into(),
            installment_unit_vnd: "1".into(),
            overdue_multiplier: decimal_text(Decimal::new(15, 1), lang),
            late_rate_percent: "10".into(),
            prepayment_rule: "shorten_term".into(),
            collateral_free_limit_vnd: "0".into(),
            active: true,
            ..Default::default()
        }
    }

    /// The form of a stored product, amounts and rates written as the page's language types them.
    fn of(product: &Product, lang: Lang) -> ProductForm {
        ProductForm {
            code: product.code.clone(),
            name: product.name.clone(),
            description: product.description.clone(),
            rate_percent: decimal_text(product.rate_percent, lang),
            methods: product
                .methods
                .iter()
                .map(|m| m.as_str().to_string())
                .collect(),
            period_months: product.period_months.iter().map(i64::to_string).collect(),
            min_amount_vnd: format::grouped(product.min_amount_vnd, lang),
            max_amount_vnd: format::grouped(product.max_amount_vnd, lang),
            min_installments: product.min_installments.to_string(),
            max_installments: product.max_installments.to_string(),
            max_principal_grace: product.max_principal_grace.to_string(),
            day_count: product.day_count.as_str().to_string(),
            installment_unit_vnd: format::grouped(product.installment_unit_vnd, lang),
            overdue_multiplier: decimal_text(product.overdue_multiplier, lang),
            late_rate_percent: decimal_text(product.late_rate_percent, lang),
            prepayment_rule: product.prepayment_rule.as_str().to_string(),
            collateral_free_limit_vnd: format::grouped(product.collateral_free_limit_vnd, lang),
            active: product.active,
            version: product.version.to_string(),
        }
    }

    fn from_pairs(fields: &[(String, String)]) -> ProductForm {
        ProductForm {
            code: first(fields, "code"),
            name: first(fields, "name"),
            description: first(fields, "description"),
            rate_percent: first(fields, "rate_percent"),
            methods: all(fields, "methods"),
            period_months: all(fields, "period_months"),
            min_amount_vnd: first(fields, "min_amount_vnd"),
            max_amount_vnd: first(fields, "max_amount_vnd"),
            min_installments: first(fields, "min_installments"),
            max_installments: first(fields, "max_installments"),
            max_principal_grace: first(fields, "max_principal_grace"),
            day_count: first(fields, "day_count"),
            installment_unit_vnd: first(fields, "installment_unit_vnd"),
            overdue_multiplier: first(fields, "overdue_multiplier"),
            late_rate_percent: first(fields, "late_rate_percent"),
            prepayment_rule: first(fields, "prepayment_rule"),
            collateral_free_limit_vnd: first(fields, "collateral_free_limit_vnd"),
            active: first(fields, "active") == "true",
            version: first(fields, "version"),
        }
    }

    /// The draft the use case reads; every field that does not read is placed in `errors`.
    fn draft(&self, lang: Lang, errors: &mut Errors) -> Option<ProductDraft> {
        let a = admin_text(lang);
        let label = |f: &str| product_label(f, a);
        let mut ok = true;
        let mut take = |result: AppResult<i64>| match result {
            Ok(v) => v,
            Err(err) => {
                errors.place_by(&err, lang, label);
                ok = false;
                0
            }
        };
        let amount = |field: &str, text: &str| format::parse_vnd(field, text, lang);
        let count = |field: &str, text: &str| {
            text.trim().parse::<i64>().map_err(|_| {
                if text.trim().is_empty() {
                    AppError::invalid(field, Reason::Required)
                } else {
                    AppError::invalid(field, Reason::InvalidFormat { expected: "12" })
                }
            })
        };
        let min_amount_vnd = take(amount("min_amount_vnd", &self.min_amount_vnd));
        let max_amount_vnd = take(amount("max_amount_vnd", &self.max_amount_vnd));
        let min_installments = take(count("min_installments", &self.min_installments));
        let max_installments = take(count("max_installments", &self.max_installments));
        let max_principal_grace = take(count("max_principal_grace", &self.max_principal_grace));
        let installment_unit_vnd = take(amount("installment_unit_vnd", &self.installment_unit_vnd));
        let collateral_free_limit_vnd = take(amount(
            "collateral_free_limit_vnd",
            &self.collateral_free_limit_vnd,
        ));
        let mut decimal = |field: &str, text: &str| match parse_decimal(field, text) {
            Ok(v) => Some(v),
            Err(err) => {
                errors.place_by(&err, lang, label);
                None
            }
        };
        let rate_percent = decimal("rate_percent", &self.rate_percent);
        let overdue_multiplier = decimal("overdue_multiplier", &self.overdue_multiplier);
        let late_rate_percent = decimal("late_rate_percent", &self.late_rate_percent);
        let mut methods = Vec::new();
        for name in &self.methods {
            match name.parse::<Method>() {
                Ok(m) => methods.push(m),
                Err(_) => {
                    errors.place_by(
                        &AppError::invalid(
                            "methods",
                            Reason::UnknownValue {
                                allowed: METHODS.join(", "),
                            },
                        ),
                        lang,
                        label,
                    );
                    ok = false;
                }
            }
        }
        let mut period_months = Vec::new();
        for text in &self.period_months {
            match text.parse::<i64>() {
                Ok(p) => period_months.push(p),
                Err(_) => {
                    errors.place_by(
                        &AppError::invalid(
                            "period_months",
                            Reason::InvalidFormat {
                                expected: "1, 3, 6, 12",
                            },
                        ),
                        lang,
                        label,
                    );
                    ok = false;
                }
            }
        }
        let day_count = match self.day_count.parse::<DayCount>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.place_by(
                    &AppError::invalid(
                        "day_count",
                        Reason::UnknownValue {
                            allowed: DAY_COUNTS.join(", "),
                        },
                    ),
                    lang,
                    label,
                );
                ok = false;
                None
            }
        };
        let prepayment_rule = match self.prepayment_rule.parse::<PrepaymentRule>() {
            Ok(r) => Some(r),
            Err(_) => {
                errors.place_by(
                    &AppError::invalid(
                        "prepayment_rule",
                        Reason::UnknownValue {
                            allowed: PREPAYMENT_RULES.join(", "),
                        },
                    ),
                    lang,
                    label,
                );
                ok = false;
                None
            }
        };
        let (Some(rate_percent), Some(overdue_multiplier), Some(late_rate_percent), true) =
            (rate_percent, overdue_multiplier, late_rate_percent, ok)
        else {
            return None;
        };
        Some(ProductDraft {
            code: self.code.clone(),
            name: self.name.clone(),
            description: Some(self.description.clone()),
            rate_percent,
            methods,
            period_months,
            min_amount_vnd,
            max_amount_vnd,
            min_installments,
            max_installments,
            options: ProductOptions {
                max_principal_grace: Some(max_principal_grace),
                day_count,
                installment_unit_vnd: Some(installment_unit_vnd),
                overdue_multiplier: Some(overdue_multiplier),
                late_rate_percent: Some(late_rate_percent),
                // The order is not edited here (a permutation is easier to get wrong than right in a
                // form); a new product takes DOMAIN.md's, an edited one keeps its own.
                allocation_order: None,
                prepayment_rule,
                collateral_free_limit_vnd: Some(collateral_free_limit_vnd),
                active: Some(self.active),
            },
        })
    }
}

fn product_label(field: &str, a: &'static AdminText) -> Option<&'static str> {
    Some(match field {
        "code" => a.code,
        "name" => a.name,
        "description" => a.description,
        "rate_percent" => a.rate_percent,
        "methods" => a.methods,
        "period_months" => a.period_months,
        "min_amount_vnd" => a.min_amount_vnd,
        "max_amount_vnd" => a.max_amount_vnd,
        "min_installments" => a.min_installments,
        "max_installments" => a.max_installments,
        "max_principal_grace" => a.max_principal_grace,
        "day_count" => a.day_count,
        "installment_unit_vnd" => a.installment_unit_vnd,
        "overdue_multiplier" => a.overdue_multiplier,
        "late_rate_percent" => a.late_rate_percent,
        "prepayment_rule" => a.prepayment_rule,
        "collateral_free_limit_vnd" => a.collateral_free_limit_vnd,
        "active" => a.active,
        _ => return None,
    })
}

/// A text input of the product form.
pub struct TextField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub hint: &'static str,
    /// `numeric` for whole numbers, `decimal` for rates, empty for text.
    pub inputmode: &'static str,
}

/// `/admin/products/new` and `/admin/products/{id}`.
#[derive(Template)]
#[template(path = "admin_product.html")]
pub struct ProductPage {
    pub shell: Shell,
    pub a: &'static AdminText,
    pub heading: String,
    /// Where the form posts.
    pub action: String,
    /// The product edited (none for a new one).
    pub product: Option<Product>,
    pub form: ProductForm,
    pub errors: Errors,
    pub done: Option<&'static str>,
}

impl ProductPage {
    /// The text inputs, in the order of the form.
    pub fn text_fields(&self) -> Vec<TextField> {
        let (a, f) = (self.a, &self.form);
        let field = |name, label, value: &String, hint, inputmode| TextField {
            name,
            label,
            value: value.clone(),
            hint,
            inputmode,
        };
        vec![
            field("code", a.code, &f.code, "", ""),
            field("name", a.name, &f.name, "", ""),
            field(
                "rate_percent",
                a.rate_percent,
                &f.rate_percent,
                a.rate_hint,
                "decimal",
            ),
            field(
                "min_amount_vnd",
                a.min_amount_vnd,
                &f.min_amount_vnd,
                "",
                "numeric",
            ),
            field(
                "max_amount_vnd",
                a.max_amount_vnd,
                &f.max_amount_vnd,
                "",
                "numeric",
            ),
            field(
                "min_installments",
                a.min_installments,
                &f.min_installments,
                "",
                "numeric",
            ),
            field(
                "max_installments",
                a.max_installments,
                &f.max_installments,
                "",
                "numeric",
            ),
            field(
                "max_principal_grace",
                a.max_principal_grace,
                &f.max_principal_grace,
                "",
                "numeric",
            ),
            field(
                "installment_unit_vnd",
                a.installment_unit_vnd,
                &f.installment_unit_vnd,
                "",
                "numeric",
            ),
            field(
                "overdue_multiplier",
                a.overdue_multiplier,
                &f.overdue_multiplier,
                a.overdue_multiplier_hint,
                "decimal",
            ),
            field(
                "late_rate_percent",
                a.late_rate_percent,
                &f.late_rate_percent,
                a.late_rate_hint,
                "decimal",
            ),
            field(
                "collateral_free_limit_vnd",
                a.collateral_free_limit_vnd,
                &f.collateral_free_limit_vnd,
                "",
                "numeric",
            ),
        ]
    }

    /// The methods a product may allow, each with its name and whether the form has it.
    pub fn method_choices(&self) -> Vec<(&'static str, String, bool)> {
        METHODS
            .iter()
            .map(|m| {
                (
                    *m,
                    self.shell.label(m),
                    self.form.methods.iter().any(|c| c == m),
                )
            })
            .collect()
    }

    /// The periods a product may allow, and whether the form has each.
    pub fn period_choices(&self) -> Vec<(String, bool)> {
        PERIOD_MONTHS
            .iter()
            .map(|p| {
                let p = p.to_string();
                let checked = self.form.period_months.contains(&p);
                (p, checked)
            })
            .collect()
    }

    /// The day counts with their names, and whether each is the one chosen.
    pub fn day_counts(&self) -> Vec<(&'static str, &'static str, bool)> {
        DAY_COUNTS
            .iter()
            .map(|d| {
                let name = if *d == "per_period" {
                    self.a.per_period
                } else {
                    self.a.actual_365
                };
                (*d, name, self.form.day_count == *d)
            })
            .collect()
    }

    /// The prepayment rules with their names, and whether each is the one chosen.
    pub fn prepayment_rules(&self) -> Vec<(&'static str, &'static str, bool)> {
        PREPAYMENT_RULES
            .iter()
            .map(|r| {
                let name = if *r == "reamortize" {
                    self.a.reamortize
                } else {
                    self.a.shorten_term
                };
                (*r, name, self.form.prepayment_rule == *r)
            })
            .collect()
    }

    /// The message for `field`, if refused.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.error_for(field)
    }

    /// The allocation order of the product edited, in words.
    pub fn allocation(&self) -> String {
        self.product
            .as_ref()
            .map(|p| {
                p.allocation_order
                    .buckets()
                    .iter()
                    .map(|b| b.as_str())
                    .collect::<Vec<_>>()
                    .join(" → ")
            })
            .unwrap_or_default()
    }
}

async fn product_form_page(
    state: &AppState,
    user: &WebUser,
    product: Option<Product>,
    form: ProductForm,
    errors: Errors,
    done: Option<&'static str>,
) -> ProductPage {
    let a = admin_text(user.lang);
    let (heading, action) = match &product {
        Some(p) => (
            format!("{}: {}", a.edit_product_title, p.code),
            format!("/admin/products/{}", p.id),
        ),
        None => (
            a.new_product_title.to_string(),
            "/admin/products/new".into(),
        ),
    };
    ProductPage {
        shell: user.shell(state, &heading).await,
        a,
        heading,
        action,
        product,
        form,
        errors,
        done,
    }
}

/// `GET /admin/products/new`.
pub async fn new_product_page(State(state): State<AppState>, user: WebUser) -> Response {
    if let Err(err) = user.caller.require(&[Role::Admin]) {
        return user.fail(&state, err).await;
    }
    let form = ProductForm::defaults(user.lang);
    render(&product_form_page(&state, &user, None, form, Errors::default(), None).await)
}

/// `POST /admin/products/new`.
pub async fn create_product(State(state): State<AppState>, user: WebUser, body: Bytes) -> Response {
    if let Err(err) = user.caller.require(&[Role::Admin]) {
        return user.fail(&state, err).await;
    }
    let form = ProductForm::from_pairs(&pairs(&body));
    let mut errors = Errors::default();
    let outcome = match form.draft(user.lang, &mut errors) {
        Some(draft) => Some(products::create(&state.ctx, &user.caller, draft).await),
        None => None,
    };
    saved_or_refused(&state, &user, None, form, errors, outcome, "created").await
}

/// What a product form answers: back to the product saved, saying what was `done`; or the form
/// again with the refusal next to its field and its status (`outcome` none: the form did not read
/// as a product, 400).
async fn saved_or_refused(
    state: &AppState,
    user: &WebUser,
    current: Option<Product>,
    form: ProductForm,
    mut errors: Errors,
    outcome: Option<AppResult<Product>>,
    done: &str,
) -> Response {
    let status = match outcome {
        Some(Ok(saved)) => {
            return Redirect::to(&format!("/admin/products/{}?done={done}", saved.id))
                .into_response()
        }
        Some(Err(err)) => {
            let a = admin_text(user.lang);
            errors.place_by(&err, user.lang, |f| product_label(f, a));
            status_of(&err)
        }
        None => StatusCode::BAD_REQUEST,
    };
    let page = product_form_page(state, user, current, form, errors, None).await;
    (status, render(&page)).into_response()
}

/// `GET /admin/products/{id}`.
pub async fn product_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    PageQuery(Done { done }): PageQuery<Done>,
) -> Response {
    let result = async {
        let id = id_of(&id)?;
        user.caller.require(&[Role::Admin])?;
        products::get(&state.ctx, &user.caller, ProductId::new(id)).await
    };
    match result.await {
        Ok(product) => {
            let a = admin_text(user.lang);
            let done = match done.as_str() {
                "created" => Some(a.done_product_created),
                "saved" => Some(a.done_product_saved),
                _ => None,
            };
            let form = ProductForm::of(&product, user.lang);
            render(
                &product_form_page(&state, &user, Some(product), form, Errors::default(), done)
                    .await,
            )
        }
        Err(err) => user.fail(&state, err).await,
    }
}

/// `POST /admin/products/{id}`: the whole form, with the version it was read at.
pub async fn update_product(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let loaded = async {
        let id = id_of(&id)?;
        user.caller.require(&[Role::Admin])?;
        products::get(&state.ctx, &user.caller, ProductId::new(id)).await
    };
    let current = match loaded.await {
        Ok(product) => product,
        Err(err) => return user.fail(&state, err).await,
    };
    let form = ProductForm::from_pairs(&pairs(&body));
    let mut errors = Errors::default();
    let outcome = match form.draft(user.lang, &mut errors) {
        Some(draft) => {
            let changes = ProductChanges {
                version: form.version.trim().parse().unwrap_or(0),
                code: Some(draft.code),
                name: Some(draft.name),
                description: draft.description,
                rate_percent: Some(draft.rate_percent),
                methods: Some(draft.methods),
                period_months: Some(draft.period_months),
                min_amount_vnd: Some(draft.min_amount_vnd),
                max_amount_vnd: Some(draft.max_amount_vnd),
                min_installments: Some(draft.min_installments),
                max_installments: Some(draft.max_installments),
                // The draft's settings, its allocation order absent: kept as it is.
                options: draft.options,
            };
            let id = ProductId::new(current.id);
            Some(products::update(&state.ctx, &user.caller, id, changes).await)
        }
        None => None,
    };
    saved_or_refused(&state, &user, Some(current), form, errors, outcome, "saved").await
}

// ----- outbox -----

/// `/admin/outbox`.
#[derive(Template)]
#[template(path = "admin_outbox.html")]
pub struct OutboxPage {
    pub shell: Shell,
    pub a: &'static AdminText,
    pub status: String,
    pub statuses: Vec<(&'static str, &'static str)>,
    pub items: Vec<OutboxMessage>,
    pub next_href: Option<String>,
    pub done: Option<&'static str>,
    /// A retry refused (the message was no longer failed).
    pub error: Option<String>,
    /// Whether the caller may retry (admins; an auditor reads the list through the API).
    pub can_retry: bool,
}

impl OutboxPage {
    /// Whether the list is filtered on `code`.
    pub fn is_status(&self, code: &str) -> bool {
        self.status == code
    }

    /// A status in the page's words.
    pub fn status_name(&self, status: &str) -> &'static str {
        status_name(self.a, status)
    }

    /// A timestamp as `dd/mm/yyyy hh:mm` in the fund's time zone.
    pub fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        at.format("%d/%m/%Y %H:%M UTC").to_string()
    }
}

fn status_name(a: &'static AdminText, status: &str) -> &'static str {
    match status {
        "pending" => a.status_pending,
        "sending" => a.status_sending,
        "sent" => a.status_sent,
        _ => a.status_failed,
    }
}

async fn outbox_view(
    state: &AppState,
    user: &WebUser,
    q: ListQuery,
    error: Option<String>,
) -> AppResult<OutboxPage> {
    // The page is the admin's (it retries); the auditor reads the outbox through the API.
    user.caller.require(&[Role::Admin])?;
    let status = q.status.trim().to_string();
    let page = outbox::list(
        &state.ctx,
        &user.caller,
        OutboxFilter {
            status: Some(status.clone()).filter(|s| !s.is_empty()),
            cooperative_id: None,
            page: PageRequest::parse(Some(50), Some(q.cursor.as_str()).filter(|c| !c.is_empty()))?,
        },
    )
    .await?;
    let a = admin_text(user.lang);
    let done = (q.done == "retried").then_some(a.done_retried);
    Ok(OutboxPage {
        shell: user.shell(state, a.outbox_title).await,
        a,
        statuses: STATUSES.iter().map(|s| (*s, status_name(a, s))).collect(),
        next_href: page
            .next_cursor
            .map(|c| link("/admin/outbox", &[("status", &status), ("cursor", &c)])),
        status,
        items: page.items,
        done,
        error,
        can_retry: user.caller.role() == Role::Admin,
    })
}

/// `GET /admin/outbox?status=&cursor=`.
pub async fn outbox_page(
    State(state): State<AppState>,
    user: WebUser,
    PageQuery(query): PageQuery<ListQuery>,
) -> Response {
    user.page(&state, outbox_view(&state, &user, query, None))
        .await
}

/// `POST /admin/outbox/{id}/retry`: back to the list, filtered as it was.
pub async fn retry_message(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let status = first(&pairs(&body), "status");
    let result = async {
        let id = id_of(&id)?;
        outbox::retry(&state.ctx, &user.caller, OutboxMessageId::new(id)).await
    };
    match result.await {
        Ok(_) => {
            let retried = link("/admin/outbox", &[("status", &status), ("done", "retried")]);
            Redirect::to(&retried).into_response()
        }
        Err(err) if err.kind == ErrorKind::Conflict => {
            let q = ListQuery {
                status,
                ..Default::default()
            };
            let message = err.message.get(user.lang).to_string();
            user.page_with(
                &state,
                StatusCode::CONFLICT,
                outbox_view(&state, &user, q, Some(message)),
            )
            .await
        }
        Err(err) => user.fail(&state, err).await,
    }
}

// ----- configuration -----

/// `/admin/config`.
#[derive(Template)]
#[template(path = "admin_config.html")]
pub struct ConfigPage {
    pub shell: Shell,
    pub a: &'static AdminText,
    pub sections: Vec<SettingSection>,
}

impl ConfigPage {
    /// A setting's value as shown: hidden secrets say only whether they are set.
    pub fn shown(&self, value: &SettingValue) -> String {
        match value {
            SettingValue::Shown(text) if text.is_empty() => self.a.empty.to_string(),
            SettingValue::Shown(text) => text.clone(),
            SettingValue::Hidden { set: true } => self.a.hidden_set.to_string(),
            SettingValue::Hidden { set: false } => self.a.hidden_unset.to_string(),
        }
    }

    /// Whether a value is a hidden secret (styled apart).
    pub fn is_hidden(&self, value: &SettingValue) -> bool {
        matches!(value, SettingValue::Hidden { .. })
    }
}

/// `GET /admin/config`.
pub async fn config_page(State(state): State<AppState>, user: WebUser) -> Response {
    match configuration::in_force(&state.ctx, &user.caller) {
        Ok(sections) => {
            let a = admin_text(user.lang);
            render(&ConfigPage {
                shell: user.shell(&state, a.config_title).await,
                a,
                sections,
            })
        }
        Err(err) => user.fail(&state, err).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_reads_with_a_comma_or_a_dot_and_a_percent_sign() {
        assert_eq!(parse_decimal("r", "7,2").unwrap(), Decimal::new(72, 1));
        assert_eq!(
            parse_decimal("r", " 7.25 % ").unwrap(),
            Decimal::new(725, 2)
        );
        assert_eq!(
            parse_decimal("r", "7,2 %/năm").unwrap(),
            Decimal::new(72, 1)
        );
        assert_eq!(
            parse_decimal("rate_percent", "bảy")
                .unwrap_err()
                .field
                .as_deref(),
            Some("rate_percent")
        );
        assert_eq!(
            parse_decimal("rate_percent", " ").unwrap_err().code,
            "required"
        );
    }

    #[test]
    fn a_decimal_is_written_back_as_the_language_types_it() {
        assert_eq!(decimal_text(Decimal::new(7250, 3), Lang::Vi), "7,25");
        assert_eq!(decimal_text(Decimal::new(7250, 3), Lang::En), "7.25");
    }

    #[test]
    fn an_error_goes_next_to_its_labelled_field_or_above_the_form() {
        let a = admin_text(Lang::Vi);
        let mut errors = Errors::default();
        errors.place_by(
            &AppError::invalid("rate_percent", Reason::Required),
            Lang::Vi,
            |f| product_label(f, a),
        );
        errors.place_by(&AppError::stale_version(), Lang::Vi, |f| {
            product_label(f, a)
        });
        let message = errors.error_for("rate_percent").expect("placed");
        assert!(
            message.contains("«Lãi suất trong hạn (%/năm)»"),
            "{message}"
        );
        assert!(errors.general.is_some());
    }
}
