//! `/auth` on the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::users::UserView;
use crate::app::sessions::{Credentials, IssuedToken};

/// Credentials sent to `POST /api/v1/auth/token`.
#[derive(Clone, Deserialize, ToSchema)]
#[schema(as = Credentials)]
#[serde(deny_unknown_fields)]
pub struct CredentialsBody {
    pub username: String,
    pub password: String,
}

impl From<CredentialsBody> for Credentials {
    fn from(body: CredentialsBody) -> Self {
        Credentials {
            username: body.username,
            password: body.password,
        }
    }
}

/// A new token and whom it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = IssuedToken)]
pub struct IssuedTokenView {
    /// Send as `Authorization: Bearer <token>`; shown once, stored only as a hash.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

impl From<IssuedToken> for IssuedTokenView {
    fn from(issued: IssuedToken) -> Self {
        IssuedTokenView {
            token: issued.token,
            expires_at: issued.expires_at,
            user: issued.user.into(),
        }
    }
}
