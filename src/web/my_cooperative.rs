//! The cooperative's own pages: its loans and what is due, schedules, payment history, printable
//! statements, applying online with documents, notification settings.

use axum::Router;

use crate::state::AppState;

/// Adds this area's pages to the site's router.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
}
