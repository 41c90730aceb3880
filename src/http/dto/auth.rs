//! `/auth` on the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::users::UserView;
use crate::app::sessions::{Credentials, IssuedToken};

view! {
    /// Credentials sent to `POST /api/v1/auth/token`.
    #[derive(Clone, Serialize, Deserialize, ToSchema)]
    #[schema(as = Credentials)]
    #[serde(deny_unknown_fields)]
    pub struct CredentialsBody into Credentials {
        pub username: String,
        pub password: String,
    }
}

view! {
    /// A new token and whom it belongs to.
    #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
    #[schema(as = IssuedToken)]
    pub struct IssuedTokenView from IssuedToken {
        /// Send as `Authorization: Bearer <token>`; shown once, stored only as a hash.
        pub token: String,
        pub expires_at: DateTime<Utc>,
        pub user: UserView [into],
    }
}
