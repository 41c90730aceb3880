//! The accountant's pages: loans to sign and disburse, disbursement, reversal, payoff quote for
//! any date, close-of-business runs, charter capital contributions.

use axum::Router;

use crate::state::AppState;

/// Adds this area's pages to the site's router.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
}
