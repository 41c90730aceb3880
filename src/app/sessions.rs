//! Logging in and out: bearer tokens that expire, are stored hashed and can be revoked; a
//! lockout after repeated failures; the same answer and the same work for an unknown user as
//! for a wrong password.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, JoinType, QueryFilter, QuerySelect, Set, Statement,
};

use super::{context::AppCtx, users::User, Caller};
use crate::{
    auth,
    config::AuthSettings,
    error::{AppError, AppResult, ErrorKind, Localized},
    store::entities::{api_token, user},
};

/// Who logs in: a username and a password (from the API or the login page).
#[derive(Clone)]
pub struct Credentials {
    /// As typed; compared in lower case.
    pub username: String,
    /// As typed.
    pub password: String,
}

/// Never the password.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A new token and whom it belongs to.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// Send as `Authorization: Bearer <token>`; shown once, stored only as a hash.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The account.
    pub user: User,
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
///
/// **Lockout.** Each attempt is counted *before* its password is checked, by one conditional
/// `UPDATE` (an `INSERT … ON CONFLICT DO UPDATE` for a username with no account) that refuses when
/// the name is locked: concurrent guesses queue on the row (PostgreSQL) or the writer gate (SQLite),
/// so at most `max_failed_logins` passwords are ever checked before the lock, however many arrive
/// at once. A success resets the count. A username without an account is counted and locked the
/// same way (its own table), so a locked unknown name answers exactly like a locked real one.
#[tracing::instrument(name = "sessions.login", skip_all)]
pub async fn login(ctx: &AppCtx, creds: Credentials) -> AppResult<IssuedToken> {
    let (db, policy) = (&ctx.db, &ctx.settings.auth);
    let username = creds.username.trim().to_ascii_lowercase();
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(username.clone()))
        .one(db)
        .await?;
    let now = ctx.now();
    let attempt = match &found {
        Some(account) => Attempt::Account(account.id),
        None => Attempt::Unknown(&username),
    };
    if let Err(until) = reserve_attempt(db, policy, attempt, now).await? {
        return Err(locked(until));
    }
    let Some(account) = found else {
        // Same argon2 work as a real check, then the same answer.
        verify_off_thread(creds.password, auth::dummy_hash().to_string()).await?;
        return Err(invalid_credentials());
    };
    let password_ok = verify_off_thread(creds.password, account.password_hash.clone()).await?;
    if !password_ok || account.disabled {
        // Already counted by `reserve_attempt`.
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
    user::Entity::update_many()
        .col_expr(user::Column::FailedLogins, Expr::value(0))
        .col_expr(
            user::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(user::Column::Id.eq(account.id))
        .exec(db)
        .await?;
    let mut account = account;
    account.failed_logins = 0;
    account.locked_until = None;
    Ok(IssuedToken {
        token,
        expires_at,
        user: User::try_from(account)?,
    })
}

/// Whose failures a login attempt counts against.
#[derive(Clone, Copy)]
enum Attempt<'a> {
    Account(i64),
    /// A (normalized) username that has no account.
    Unknown(&'a str),
}

/// Counts one attempt atomically, locking the name when it reaches the policy's limit; `Err` with
/// the end of the lock when the name is already locked (the attempt is then not checked at all).
async fn reserve_attempt(
    db: &DatabaseConnection,
    policy: &AuthSettings,
    attempt: Attempt<'_>,
    now: DateTime<Utc>,
) -> AppResult<Result<(), DateTime<Utc>>> {
    let backend = db.get_database_backend();
    let until = now + Duration::minutes(policy.lockout_minutes);
    let max = policy.max_failed_logins;
    // Right-hand sides see the row as it was, so the count and the lock move together. The row
    // lock (PostgreSQL) re-evaluates the WHERE after a concurrent update commits.
    let statement = match attempt {
        Attempt::Account(id) => Statement::from_sql_and_values(
            backend,
            "UPDATE users SET \
               failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END, \
               locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE NULL END \
             WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $4)",
            [id.into(), max.into(), until.into(), now.into()],
        ),
        Attempt::Unknown(username) => {
            prune_login_failures(db, now).await?;
            let (first_count, first_lock) = if 1 >= max {
                (0, Some(until))
            } else {
                (1, None)
            };
            Statement::from_sql_and_values(
                backend,
                "INSERT INTO login_failures (username, failed_logins, locked_until, last_failed_at) \
                 VALUES ($1, $5, $6, $4) \
                 ON CONFLICT (username) DO UPDATE SET \
                   failed_logins = CASE WHEN login_failures.failed_logins + 1 >= $2 THEN 0 \
                                        ELSE login_failures.failed_logins + 1 END, \
                   locked_until = CASE WHEN login_failures.failed_logins + 1 >= $2 THEN $3 \
                                       ELSE NULL END, \
                   last_failed_at = $4 \
                 WHERE login_failures.locked_until IS NULL OR login_failures.locked_until <= $4",
                [
                    username.into(),
                    max.into(),
                    until.into(),
                    now.into(),
                    first_count.into(),
                    first_lock.into(),
                ],
            )
        }
    };
    if db.execute_raw(statement).await?.rows_affected() > 0 {
        return Ok(Ok(()));
    }
    let locked_until = match attempt {
        Attempt::Account(id) => user::Entity::find_by_id(id)
            .one(db)
            .await?
            .and_then(|u| u.locked_until),
        Attempt::Unknown(username) => db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                "SELECT locked_until FROM login_failures WHERE username = $1",
                [username.into()],
            ))
            .await?
            .map(|row| row.try_get::<Option<DateTime<Utc>>>("", "locked_until"))
            .transpose()?
            .flatten(),
    };
    // The lock may have ended (or been cleared by an admin) between the two statements: still
    // refuse this one attempt rather than check it uncounted.
    Ok(Err(locked_until.unwrap_or(until)))
}

/// How long the failure count of a name with no account is kept after its last failure (unless it
/// is locked): long enough that guessing stays as slow as the lockout makes it, short enough that
/// `login_failures` holds only the names tried in the last day.
pub const UNKNOWN_NAME_FAILURES_KEPT_HOURS: i64 = 24;

/// Deletes the rows of `login_failures` whose last failure is older than
/// [`UNKNOWN_NAME_FAILURES_KEPT_HOURS`] and that are not locked now.
async fn prune_login_failures(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<()> {
    let before = now - Duration::hours(UNKNOWN_NAME_FAILURES_KEPT_HOURS);
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "DELETE FROM login_failures \
         WHERE (last_failed_at IS NULL OR last_failed_at < $1) \
           AND (locked_until IS NULL OR locked_until <= $2)",
        [before.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// Revokes every token of an account (a password change or reset, a disable): none of them may
/// outlive what ended them, and re-enabling the account does not bring them back. Returns how many
/// were revoked.
pub async fn revoke_all_of_user<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let result = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

async fn verify_off_thread(password: String, phc: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || auth::verify_password(&password, &phc))
        .await
        .map_err(AppError::internal)
}

/// Resolves a bearer token to its caller: 401 when unknown, expired, revoked or disabled.
#[tracing::instrument(name = "sessions.authenticate", skip_all)]
pub async fn authenticate(
    ctx: &AppCtx,
    token: &str,
    request_id: Option<String>,
) -> AppResult<Caller> {
    let db = &ctx.db;
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
    // The token and its account in one statement: every authenticated request pays this.
    let token_of_user = api_token::Entity::belongs_to(user::Entity)
        .from(api_token::Column::UserId)
        .to(user::Column::Id)
        .into();
    let (found, account) = api_token::Entity::find()
        .join(JoinType::InnerJoin, token_of_user)
        .select_also(user::Entity)
        .filter(api_token::Column::TokenHash.eq(auth::token_hash(token)))
        // `all`, not `one`: the hash is unique, and `one` adds a `LIMIT ?` that SQLite recompiles the statement
        // for on every execution (`crate::store` docs).
        .all(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(invalid)?;
    if found.revoked_at.is_some() || found.expires_at <= ctx.now() {
        return Err(invalid());
    }
    let account = account.ok_or_else(invalid)?;
    if account.disabled {
        return Err(invalid());
    }
    let account = User::try_from(account)?;
    Ok(Caller::account(
        account.id,
        account.username,
        account.role,
        account.cooperative_id.map(|id| id.get()),
    )?
    .with_lang(account.language)
    .with_request_id(request_id))
}

/// Revokes `token` (logout). Revoking twice is harmless.
#[tracing::instrument(name = "sessions.revoke", skip_all)]
pub async fn revoke(ctx: &AppCtx, token: &str) -> AppResult<()> {
    let db = &ctx.db;
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(ctx.now()),
        )
        .filter(api_token::Column::TokenHash.eq(auth::token_hash(token)))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
