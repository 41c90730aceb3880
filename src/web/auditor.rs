//! The auditor's desk: journal, trial balance, statements, the audit trail and its verification,
//! reports as of any date, exports.

use axum::Router;

use crate::state::AppState;

/// Adds this area's pages to the site's router.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
}
