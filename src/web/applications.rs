//! The officer's and approver's pages for loan applications: new application, appraisal, the
//! approval queue and the application page with the Decree 45 checks, approve or reject.

use axum::Router;

use crate::state::AppState;

/// Adds this area's pages to the site's router.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
}
