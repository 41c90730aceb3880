//! "How is this computed?": the page that opens an amount owed on a loan into the lines that make
//! it (from, to, days, balance, rate, formula, amount, rounding), for staff and the loan's own
//! cooperative.

use axum::Router;

use crate::state::AppState;

/// Adds this area's pages to the site's router.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
}
