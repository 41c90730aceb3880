//! The administrator's pages: users, loan products, the outbox with retry, the configuration in
//! force (read only, secrets hidden).

use axum::Router;

use crate::state::AppState;

/// Adds this area's pages to the site's router.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
}
