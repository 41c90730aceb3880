//! Accounts: created by an admin (API) or an operator (CLI), disabled rather than deleted.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    audit::{self, Change},
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

/// A new account as requested.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// a-z, 0-9, `.`, `_`, `-`; stored in lower case.
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    /// 10 to 128 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    /// One of `admin`, `officer`, `approver`, `accountant`, `auditor`, `cooperative`.
    pub role: String,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Required for the `cooperative` role, refused for the others.
    #[serde(default)]
    pub cooperative_id: Option<i64>,
    /// `vi` (default) or `en`.
    #[serde(default)]
    pub language: Option<String>,
}

/// A change to an account by an admin.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// Disable (true) or re-enable (false) the account; disabling revokes every token of the
    /// account, and re-enabling does not bring them back.
    pub disabled: Option<bool>,
    /// A new password (also clears a lockout and revokes every token of the account), 10 to
    /// 128 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub password: Option<String>,
}

/// An account as shown (never with its hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub cooperative_id: Option<i64>,
    pub language: Lang,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl From<user::Model> for UserView {
    fn from(m: user::Model) -> Self {
        UserView {
            id: m.id,
            role: Role::parse(&m.role).unwrap_or(Role::Auditor),
            language: Lang::parse(&m.language).unwrap_or_default(),
            username: m.username,
            full_name: m.full_name,
            email: m.email,
            cooperative_id: m.cooperative_id,
            disabled: m.disabled,
            created_at: m.created_at,
        }
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

/// Creates an account. Admins only; the CLI acts as admin.
pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    input: NewUser,
) -> AppResult<UserView> {
    caller.require(&[Role::Admin])?;
    let username = check_username(&input.username)?;
    check_password(&input.password)?;
    let role = Role::parse(&input.role).ok_or_else(|| {
        AppError::invalid(
            "role",
            Reason::UnknownValue {
                allowed: Role::names(),
            },
        )
    })?;
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
    let language = match input.language.as_deref() {
        None => Lang::Vi,
        Some(code) => Lang::parse(code).ok_or_else(|| {
            AppError::invalid(
                "language",
                Reason::UnknownValue {
                    allowed: "vi, en".into(),
                },
            )
        })?,
    };
    match (role, input.cooperative_id) {
        (Role::Cooperative, None) => {
            return Err(AppError::invalid("cooperative_id", Reason::Required))
        }
        (Role::Cooperative, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return Err(AppError::new(
                ErrorKind::BadRequest,
                "cooperative_only_for_cooperative_role",
                Localized::new(
                    "Chỉ tài khoản vai trò 'cooperative' mới gắn với một hợp tác xã.",
                    "Only a 'cooperative' account is bound to a cooperative.",
                ),
            )
            .with_field("cooperative_id"))
        }
    }
    let password_hash = hash_off_thread(input.password).await?;

    let txn = db.begin().await?;
    if let Some(id) = input.cooperative_id {
        if cooperative::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .is_none()
        {
            return Err(
                AppError::not_found("hợp tác xã", "Cooperative").with_field("cooperative_id")
            );
        }
    }
    let created = user::ActiveModel {
        username: Set(username),
        full_name: Set(full_name),
        email: Set(email),
        role: Set(role.as_str().to_string()),
        cooperative_id: Set(input.cooperative_id),
        language: Set(language.code().to_string()),
        password_hash: Set(password_hash),
        disabled: Set(false),
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(Utc::now()),
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
    let view = UserView::from(created);
    audit::record(
        &txn,
        caller,
        Change::<(), _> {
            action: "user.create",
            entity_type: "user",
            entity_id: view.id.to_string(),
            before: None,
            after: Some(&view),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// Every account, oldest first. Admins only.
pub async fn list(db: &DatabaseConnection, caller: &Caller) -> AppResult<Vec<UserView>> {
    caller.require(&[Role::Admin])?;
    let users = user::Entity::find()
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?;
    Ok(users.into_iter().map(UserView::from).collect())
}

/// One account. Admins only.
pub async fn get(db: &DatabaseConnection, caller: &Caller, id: i64) -> AppResult<UserView> {
    caller.require(&[Role::Admin])?;
    find(db, id).await.map(UserView::from)
}

async fn find<C: ConnectionTrait>(conn: &C, id: i64) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("tài khoản", "User"))
}

/// Finds an account by username (for the CLI).
pub async fn find_by_username(db: &DatabaseConnection, username: &str) -> AppResult<user::Model> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username.trim().to_ascii_lowercase()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("tài khoản", "User"))
}

/// Disables or re-enables an account, or sets a new password. Admins only; an admin cannot
/// disable their own account (so the fund is never left without one by mistake). A new password
/// or a disable revokes every token of the account, in the same transaction.
pub async fn change(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    input: UserChange,
) -> AppResult<UserView> {
    caller.require(&[Role::Admin])?;
    if input.disabled == Some(true) && caller.user_id == Some(id) {
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
    let new_hash = match input.password {
        Some(password) => {
            check_password(&password)?;
            Some(hash_off_thread(password).await?)
        }
        None => None,
    };
    let txn = db.begin().await?;
    let before = find(&txn, id).await?;
    let mut active = before.clone().into_active_model();
    if let Some(disabled) = input.disabled {
        active.disabled = Set(disabled);
    }
    let ends_sessions = new_hash.is_some() || input.disabled == Some(true);
    if let Some(hash) = new_hash {
        active.password_hash = Set(hash);
        active.failed_logins = Set(0);
        active.locked_until = Set(None);
    }
    let after = active.update(&txn).await?;
    if ends_sessions {
        super::sessions::revoke_all_of_user(&txn, id).await?;
    }
    let (before, after) = (UserView::from(before), UserView::from(after));
    audit::record(
        &txn,
        caller,
        Change {
            action: "user.change",
            entity_type: "user",
            entity_id: id.to_string(),
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// On first start with no admin, creates `admin` with `password` or a generated one; returns
/// the generated password (to print once) when one was made.
pub async fn ensure_admin(
    db: &DatabaseConnection,
    password: Option<String>,
) -> AppResult<Option<String>> {
    let admins = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .count(db)
        .await?;
    if admins > 0 {
        return Ok(None);
    }
    let generated = password.is_none().then(auth::generate_password);
    let password = password.or_else(|| generated.clone()).unwrap_or_default();
    let input = NewUser {
        username: "admin".into(),
        password,
        role: "admin".into(),
        full_name: Some("Quản trị hệ thống".into()),
        email: None,
        cooperative_id: None,
        language: None,
    };
    create(db, &Caller::system_named("system"), input).await?;
    Ok(generated)
}

/// argon2 is deliberately slow: keep it off the async workers.
pub(crate) async fn hash_off_thread(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}
