//! Accounts: created by an admin (API) or an operator (CLI), disabled rather than deleted.

use chrono::{DateTime, Utc};
use coopfund_domain::ids::{CooperativeId, UserId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde::Serialize;

use super::{
    audit::{self, Audited},
    context::AppCtx,
    validate, Caller,
};
use crate::{
    auth::{self, Role},
    error::{AppError, AppResult, ErrorKind, Lang, Localized, Reason},
    store::{
        self,
        entities::{cooperative, user},
    },
};

/// A new account to create (parsed from the API's body by `crate::http::dto::users`, or built by
/// the CLI and the bootstrap).
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// a-z, 0-9, `.`, `_`, `-` (checked here); stored in lower case.
    pub username: String,
    /// 10 to 128 characters (checked here).
    pub password: String,
    /// The role.
    pub role: Role,
    /// Full name, optional.
    pub full_name: Option<String>,
    /// Email, optional.
    pub email: Option<String>,
    /// Required for the `cooperative` role, refused for the others.
    pub cooperative_id: Option<CooperativeId>,
    /// The language of its messages.
    pub language: Lang,
}

/// A change to an account by an admin.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    /// Disable (true) or re-enable (false) the account; disabling revokes every token of the
    /// account, and re-enabling does not bring them back.
    pub disabled: Option<bool>,
    /// A new password (also clears a lockout and revokes every token of the account).
    pub password: Option<String>,
    /// A new role and the cooperative the account is bound to (required for `cooperative`,
    /// refused for the other roles); a change revokes every token of the account. `None` keeps
    /// both.
    pub role: Option<(Role, Option<CooperativeId>)>,
}

/// An account as the use cases return it (never with its hash). Serialized as the audit
/// trail's before and after.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub cooperative_id: Option<CooperativeId>,
    pub language: Lang,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl Audited for User {
    const ENTITY_TYPE: &'static str = "user";

    fn audit_id(&self) -> String {
        self.id.to_string()
    }
}

impl TryFrom<user::Model> for User {
    type Error = AppError;

    /// A stored role or language that cannot be read is an error naming the account.
    fn try_from(m: user::Model) -> AppResult<Self> {
        let role = Role::parse(&m.role)
            .ok_or_else(|| AppError::unreadable("user", m.id, "role", &m.role))?;
        let language = Lang::parse(&m.language)
            .ok_or_else(|| AppError::unreadable("user", m.id, "language", &m.language))?;
        Ok(User {
            id: UserId::new(m.id),
            role,
            language,
            username: m.username,
            full_name: m.full_name,
            email: m.email,
            cooperative_id: m.cooperative_id.map(CooperativeId::new),
            disabled: m.disabled,
            created_at: m.created_at,
        })
    }
}

const PASSWORD_MIN_CHARS: usize = 10;

fn check_password(password: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if !(PASSWORD_MIN_CHARS..=128).contains(&chars) {
        return Err(AppError::invalid(
            "password",
            Reason::OutOfRange {
                min: format!("{PASSWORD_MIN_CHARS} ký tự/characters"),
                max: "128".into(),
            },
        ));
    }
    Ok(())
}

fn check_username(username: &str) -> AppResult<String> {
    let username = validate::text("username", username, 64)?;
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(AppError::invalid(
            "username",
            Reason::InvalidFormat {
                expected: "a-z, 0-9, . _ -",
            },
        ));
    }
    Ok(username.to_ascii_lowercase())
}

/// A cooperative account is bound to one cooperative (it sees only that one's data); a staff
/// account to none.
fn check_binding(role: Role, cooperative_id: Option<CooperativeId>) -> AppResult<()> {
    match (role, cooperative_id) {
        (Role::Cooperative, None) => Err(AppError::invalid("cooperative_id", Reason::Required)),
        (Role::Cooperative, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err(AppError::new(
            ErrorKind::BadRequest,
            "cooperative_only_for_cooperative_role",
            Localized::new(
                "Chỉ tài khoản vai trò 'cooperative' mới gắn với một hợp tác xã.",
                "Only a 'cooperative' account is bound to a cooperative.",
            ),
        )
        .with_field("cooperative_id")),
    }
}

async fn check_cooperative_exists<C: ConnectionTrait>(
    conn: &C,
    id: CooperativeId,
) -> AppResult<()> {
    if cooperative::Entity::find_by_id(id.get())
        .one(conn)
        .await?
        .is_none()
    {
        return Err(AppError::not_found("hợp tác xã", "Cooperative").with_field("cooperative_id"));
    }
    Ok(())
}

/// Creates an account. Admins only; the CLI acts as admin.
#[tracing::instrument(name = "users.create", skip_all, fields(role = input.role.as_str()))]
pub async fn create(ctx: &AppCtx, caller: &Caller, input: NewAccount) -> AppResult<User> {
    caller.require(&[Role::Admin])?;
    let username = check_username(&input.username)?;
    check_password(&input.password)?;
    let role = input.role;
    let full_name =
        validate::optional_text("full_name", input.full_name.as_deref().unwrap_or(""), 200)?;
    let email = match input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(e) => Some(validate::email("email", e)?),
        None => None,
    };
    check_binding(role, input.cooperative_id)?;
    let password_hash = hash_off_thread(input.password).await?;

    let txn = ctx.db.begin().await?;
    if let Some(id) = input.cooperative_id {
        check_cooperative_exists(&txn, id).await?;
    }
    let created = user::ActiveModel {
        username: Set(username),
        full_name: Set(full_name),
        email: Set(email),
        role: Set(role.as_str().to_string()),
        cooperative_id: Set(input.cooperative_id.map(CooperativeId::get)),
        language: Set(input.language.code().to_string()),
        password_hash: Set(password_hash),
        disabled: Set(false),
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        if store::is_unique_violation(&e) {
            AppError::duplicate("username")
        } else {
            e.into()
        }
    })?;
    let created = User::try_from(created)?;
    audit::created(&txn, ctx, caller, "user.create", &created).await?;
    txn.commit().await?;
    Ok(created)
}

/// Every account, oldest first. Admins only.
#[tracing::instrument(name = "users.list", skip_all)]
pub async fn list(ctx: &AppCtx, caller: &Caller) -> AppResult<Vec<User>> {
    caller.require(&[Role::Admin])?;
    let users = user::Entity::find()
        .order_by_asc(user::Column::Id)
        .all(&ctx.db)
        .await?;
    users.into_iter().map(User::try_from).collect()
}

/// One account. Admins only.
#[tracing::instrument(name = "users.get", skip_all, fields(user_id = %id))]
pub async fn get(ctx: &AppCtx, caller: &Caller, id: UserId) -> AppResult<User> {
    caller.require(&[Role::Admin])?;
    find(&ctx.db, id).await.and_then(User::try_from)
}

/// The account of `caller` itself (`GET /auth/me`); 404 for the system, which has none.
#[tracing::instrument(name = "users.me", skip_all)]
pub async fn me(ctx: &AppCtx, caller: &Caller) -> AppResult<User> {
    let id = caller
        .user()
        .map(|user| user.id)
        .ok_or_else(|| AppError::not_found("tài khoản", "User"))?;
    find(&ctx.db, id).await.and_then(User::try_from)
}

async fn find<C: ConnectionTrait>(conn: &C, id: UserId) -> AppResult<user::Model> {
    user::Entity::find_by_id(id.get())
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("tài khoản", "User"))
}

/// Finds an account by username (for the CLI).
pub async fn find_by_username(ctx: &AppCtx, username: &str) -> AppResult<User> {
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(username.trim().to_ascii_lowercase()))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| AppError::not_found("tài khoản", "User"))?;
    User::try_from(found)
}

/// Disables or re-enables an account, sets a new password, or gives it another role (and
/// cooperative). Admins only; an admin cannot disable their own account or take away their own
/// admin role (so the fund is never left without one by mistake). A new password, a disable or a
/// new role revokes every token of the account, in the same transaction.
#[tracing::instrument(name = "users.change", skip_all, fields(user_id = %id))]
pub async fn change(
    ctx: &AppCtx,
    caller: &Caller,
    id: UserId,
    input: AccountChange,
) -> AppResult<User> {
    caller.require(&[Role::Admin])?;
    if input.disabled == Some(true) && caller.user().is_some_and(|me| me.id == id) {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "cannot_disable_self",
            Localized::new(
                "Không thể tự khóa tài khoản của mình.",
                "You cannot disable your own account.",
            ),
        )
        .with_field("disabled"));
    }
    if let Some((role, cooperative_id)) = input.role {
        if role != Role::Admin && caller.user().is_some_and(|me| me.id == id) {
            return Err(AppError::new(
                ErrorKind::Conflict,
                "cannot_demote_self",
                Localized::new(
                    "Không thể tự bỏ vai trò quản trị của mình.",
                    "You cannot take away your own admin role.",
                ),
            )
            .with_field("role"));
        }
        check_binding(role, cooperative_id)?;
    }
    let new_hash = match input.password {
        Some(password) => {
            check_password(&password)?;
            Some(hash_off_thread(password).await?)
        }
        None => None,
    };
    let txn = ctx.db.begin().await?;
    let before = find(&txn, id).await?;
    let mut active = before.clone().into_active_model();
    if let Some(disabled) = input.disabled {
        active.disabled = Set(disabled);
    }
    let mut new_role = false;
    if let Some((role, cooperative_id)) = input.role {
        if let Some(id) = cooperative_id {
            check_cooperative_exists(&txn, id).await?;
        }
        new_role = before.role != role.as_str()
            || before.cooperative_id != cooperative_id.map(CooperativeId::get);
        active.role = Set(role.as_str().to_string());
        active.cooperative_id = Set(cooperative_id.map(CooperativeId::get));
    }
    let ends_sessions = new_hash.is_some() || input.disabled == Some(true) || new_role;
    if let Some(hash) = new_hash {
        active.password_hash = Set(hash);
        active.failed_logins = Set(0);
        active.locked_until = Set(None);
    }
    let after = active.update(&txn).await?;
    if ends_sessions {
        super::sessions::revoke_all_of_user(&txn, id.get(), ctx.now()).await?;
    }
    let (before, after) = (User::try_from(before)?, User::try_from(after)?);
    audit::changed(&txn, ctx, caller, "user.change", &before, &after).await?;
    txn.commit().await?;
    Ok(after)
}

/// On first start with no admin, creates `admin` with `password` or a generated one; returns
/// the generated password (to print once) when one was made.
#[tracing::instrument(name = "users.ensure_admin", skip_all)]
pub async fn ensure_admin(ctx: &AppCtx, password: Option<String>) -> AppResult<Option<String>> {
    let admins = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .count(&ctx.db)
        .await?;
    if admins > 0 {
        return Ok(None);
    }
    let (password, generated) = match password {
        Some(given) => (given, None),
        None => {
            let made = auth::generate_password();
            (made.clone(), Some(made))
        }
    };
    let input = NewAccount {
        username: "admin".into(),
        password,
        role: Role::Admin,
        full_name: Some("Quản trị hệ thống".into()),
        email: None,
        cooperative_id: None,
        language: Lang::Vi,
    };
    create(ctx, &Caller::system_named("system"), input).await?;
    Ok(generated)
}

/// argon2 is deliberately slow: keep it off the async workers.
pub(crate) async fn hash_off_thread(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}
