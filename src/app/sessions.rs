//! Logging in and out: bearer tokens that expire, are stored hashed and can be revoked; a
//! lockout after repeated failures; the same answer and the same work for an unknown user as
//! for a wrong password.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{users::UserView, Caller};
use crate::{
    auth::{self, Role},
    config::AuthSettings,
    error::{AppError, AppResult, ErrorKind, Lang, Localized},
    store::entities::{api_token, user},
};

/// Credentials sent to `POST /api/v1/auth/token`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// A new token and whom it belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuedToken {
    /// Send as `Authorization: Bearer <token>`; shown once, stored only as a hash.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

fn invalid_credentials() -> AppError {
    AppError::new(
        ErrorKind::Unauthorized,
        "invalid_credentials",
        Localized::new(
            "Tên đăng nhập hoặc mật khẩu không đúng.",
            "Wrong username or password.",
        ),
    )
}

fn locked(until: DateTime<Utc>) -> AppError {
    let at = until.format("%H:%M UTC");
    AppError::new(
        ErrorKind::TooManyRequests,
        "account_locked",
        Localized::new(
            format!("Đăng nhập sai quá nhiều lần; hãy thử lại sau {at}."),
            format!("Too many failed logins; try again after {at}."),
        ),
    )
}

/// Checks credentials and issues a token.
pub async fn login(
    db: &DatabaseConnection,
    policy: &AuthSettings,
    creds: Credentials,
) -> AppResult<IssuedToken> {
    let username = creds.username.trim().to_ascii_lowercase();
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?;
    let now = Utc::now();
    let Some(account) = found else {
        // Same argon2 work as a real check, then the same answer.
        verify_off_thread(creds.password, auth::dummy_hash().to_string()).await?;
        return Err(invalid_credentials());
    };
    if let Some(until) = account.locked_until.filter(|until| *until > now) {
        return Err(locked(until));
    }
    let password_ok = verify_off_thread(creds.password, account.password_hash.clone()).await?;
    if !password_ok || account.disabled {
        record_failure(db, policy, account, now).await?;
        return Err(invalid_credentials());
    }
    let token = auth::new_token();
    let expires_at = now + Duration::minutes(policy.token_ttl_minutes);
    api_token::ActiveModel {
        user_id: Set(account.id),
        token_hash: Set(auth::token_hash(&token)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let mut active = account.clone().into_active_model();
    active.failed_logins = Set(0);
    active.locked_until = Set(None);
    let account = active.update(db).await?;
    Ok(IssuedToken {
        token,
        expires_at,
        user: UserView::from(account),
    })
}

async fn record_failure(
    db: &DatabaseConnection,
    policy: &AuthSettings,
    account: user::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let failures = account.failed_logins + 1;
    let mut active = account.into_active_model();
    if failures >= policy.max_failed_logins {
        active.failed_logins = Set(0);
        active.locked_until = Set(Some(now + Duration::minutes(policy.lockout_minutes)));
    } else {
        active.failed_logins = Set(failures);
    }
    active.update(db).await?;
    Ok(())
}

async fn verify_off_thread(password: String, phc: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || auth::verify_password(&password, &phc))
        .await
        .map_err(AppError::internal)
}

/// Resolves a bearer token to its caller: 401 when unknown, expired, revoked or disabled.
pub async fn authenticate(
    db: &DatabaseConnection,
    token: &str,
    request_id: Option<String>,
) -> AppResult<Caller> {
    let invalid = || {
        AppError::new(
            ErrorKind::Unauthorized,
            "invalid_token",
            Localized::new(
                "Phiên đăng nhập không hợp lệ hoặc đã hết hạn; hãy đăng nhập lại.",
                "The token is invalid or has expired; log in again.",
            ),
        )
    };
    let found = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(auth::token_hash(token)))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    if found.revoked_at.is_some() || found.expires_at <= Utc::now() {
        return Err(invalid());
    }
    let account = user::Entity::find_by_id(found.user_id)
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    if account.disabled {
        return Err(invalid());
    }
    Ok(Caller {
        user_id: Some(account.id),
        role: Role::parse(&account.role).ok_or_else(invalid)?,
        cooperative_id: account.cooperative_id,
        lang: Lang::parse(&account.language).unwrap_or_default(),
        name: account.username,
        request_id,
    })
}

/// Revokes `token` (logout). Revoking twice is harmless.
pub async fn revoke(db: &DatabaseConnection, token: &str) -> AppResult<()> {
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(api_token::Column::TokenHash.eq(auth::token_hash(token)))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
