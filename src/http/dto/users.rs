//! `/users` and `/auth/me` on the wire.

use chrono::{DateTime, Utc};
use coopfund_domain::ids::{CooperativeId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    app::users::{AccountChange, NewAccount, User},
    auth::Role,
    error::{AppError, AppResult, Lang, Reason},
};

/// A new account as requested.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = NewUser)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
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
    #[schema(value_type = Option<i64>)]
    pub cooperative_id: Option<CooperativeId>,
    /// `vi` (default) or `en`.
    #[serde(default)]
    pub language: Option<String>,
}

/// `language` of a body: `vi` when absent, 400 naming the field when unknown.
pub fn language(code: Option<&str>) -> AppResult<Lang> {
    match code {
        None => Ok(Lang::Vi),
        Some(code) => Lang::parse(code).ok_or_else(|| {
            AppError::invalid(
                "language",
                Reason::UnknownValue {
                    allowed: "vi, en".into(),
                },
            )
        }),
    }
}

impl TryFrom<NewUserBody> for NewAccount {
    type Error = AppError;

    fn try_from(body: NewUserBody) -> AppResult<Self> {
        let role = Role::parse(&body.role).ok_or_else(|| {
            AppError::invalid(
                "role",
                Reason::UnknownValue {
                    allowed: Role::names(),
                },
            )
        })?;
        Ok(NewAccount {
            language: language(body.language.as_deref())?,
            username: body.username,
            password: body.password,
            role,
            full_name: body.full_name,
            email: body.email,
            cooperative_id: body.cooperative_id,
        })
    }
}

/// A change to an account by an admin.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = UserChange)]
#[serde(deny_unknown_fields)]
pub struct UserChangeBody {
    /// Disable (true) or re-enable (false) the account; disabling revokes every token of the
    /// account, and re-enabling does not bring them back.
    pub disabled: Option<bool>,
    /// A new password (also clears a lockout and revokes every token of the account), 10 to
    /// 128 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub password: Option<String>,
}

impl From<UserChangeBody> for AccountChange {
    fn from(body: UserChangeBody) -> Self {
        AccountChange {
            disabled: body.disabled,
            password: body.password,
            role: None,
        }
    }
}

view! {
    /// An account as shown (never with its hash).
    #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
    pub struct UserView from User {
        #[schema(value_type = i64)]
        pub id: UserId,
        pub username: String,
        pub full_name: String,
        pub email: Option<String>,
        pub role: Role,
        #[schema(value_type = Option<i64>)]
        pub cooperative_id: Option<CooperativeId>,
        pub language: Lang,
        pub disabled: bool,
        pub created_at: DateTime<Utc>,
    }
}
