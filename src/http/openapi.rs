//! The OpenAPI document's frame: title, security scheme, tags. The paths come from the handlers.

use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "coopfund API", description = "Lending of a Cooperative Development Support Fund: borrowers, loans, schedules, ledger."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Log in and out"),
        (name = "users", description = "Accounts and roles (admin)"),
        (name = "cooperatives", description = "Borrowers"),
        (name = "applications", description = "Loan applications: appraisal and four-eyes approval under Decree 45 limits"),
        (name = "fund", description = "The fund and its charter capital"),
        (name = "products", description = "Loan products: the fund's lending rules per product"),
        (name = "loans", description = "Loans from approval onward: signing, disbursements, repayments, reversals, restructuring, write-off; schedule, payoff, statement"),
        (name = "ledger", description = "The books: chart of accounts, journal, trial balance"),
        (name = "outbox", description = "Email queued, sent and failed"),
        (name = "schedule", description = "Schedule preview"),
        (name = "close of business", description = "Business date and close of business"),
        (name = "calendar", description = "The fund's days off: weekly days off and holidays (Tết …)"),
        (name = "reports", description = "Portfolio by debt group, provisions, bad-debt ratio"),
        (name = "audit", description = "The audit trail"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document before the routes are merged in.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
