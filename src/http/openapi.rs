//! The OpenAPI document's frame: title, security scheme, tags. The paths come from the handlers.

use serde_json::Value;
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
        (name = "bank statements", description = "The fund's bank statements: import, match, confirm repayments once, reconcile 1121"),
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

/// The served document: the generated one, [`complete`]d.
pub fn completed(openapi: &utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(openapi).unwrap_or_default();
    complete(&mut doc);
    doc
}

/// The largest `?limit=` of a page (`crate::app::page`, which every list uses).
pub const PAGE_LIMIT_MAX: u64 = crate::app::page::LIMIT_MAX;

/// Completes the generated document with what every route answers through the shared extractors,
/// so that it describes the server exactly, for generated clients and fuzzers (issue 13):
/// - an operation that needs a token answers 401 ([`crate::app::Caller`]'s extractor);
/// - a required JSON body answers 400 (malformed, unknown or mistyped fields, control
///   characters), 413 (over the body limit) and 415 (not `application/json`);
/// - a body declared `Option<T>` is an optional body (empty means the defaults), never a JSON
///   `null`, which the server refuses: it is documented as `T`, not required;
/// - query parameters answer 400 when invalid; `limit` is bounded (1..=[`PAGE_LIMIT_MAX`]);
/// - fields and parameters that take one of a fixed set of values list them as an `enum`, from
///   the same constants the use cases check against.
///
/// 403 is declared on each route's attribute, where the roles are known.
pub fn complete(doc: &mut Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, operations) in paths.iter_mut() {
            let Some(operations) = operations.as_object_mut() else {
                continue;
            };
            for operation in operations.values_mut() {
                complete_operation(path, operation);
            }
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (schema, property, allowed) in property_enums() {
            if let Some(field) = schemas
                .get_mut(schema)
                .and_then(|s| s.get_mut("properties"))
                .and_then(|p| p.get_mut(property))
            {
                set_enum(field, &allowed);
            }
        }
    }
}

fn complete_operation(path: &str, operation: &mut Value) {
    let secured = operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    let mut statuses: Vec<(&str, &str)> = Vec::new();
    if secured {
        statuses.push(("401", "No token, or an invalid, expired or revoked one."));
    }
    if let Some(body) = operation.get_mut("requestBody") {
        let schema = body.pointer_mut("/content/application~1json/schema");
        let optional_ref = schema.as_ref().and_then(|s| {
            let one_of = s.get("oneOf")?.as_array()?;
            let is_null = |v: &Value| v.get("type") == Some(&Value::from("null"));
            match one_of.as_slice() {
                [a, b] if is_null(b) => Some(a.clone()),
                [a, b] if is_null(a) => Some(b.clone()),
                _ => None,
            }
        });
        if let (Some(schema), Some(inner)) = (schema, optional_ref) {
            *schema = inner;
            body["required"] = Value::Bool(false);
        }
        if body.get("required") == Some(&Value::Bool(true)) {
            statuses.push(("400", "A malformed body or an invalid field (named)."));
            statuses.push(("413", "The body is over the limit."));
            statuses.push(("415", "The body is not `application/json`."));
        }
    }
    let mut has_query = false;
    if let Some(parameters) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    {
        for parameter in parameters.iter_mut() {
            if parameter.get("in") != Some(&Value::from("query")) {
                continue;
            }
            has_query = true;
            let name = parameter
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let Some(schema) = parameter.get_mut("schema") else {
                continue;
            };
            if name == "limit" {
                schema["minimum"] = Value::from(1);
                schema["maximum"] = Value::from(PAGE_LIMIT_MAX);
            }
            if let Some(allowed) = query_enum(path, &name) {
                set_enum(schema, &allowed);
            }
        }
    }
    if has_query {
        statuses.push(("400", "An invalid query parameter (named)."));
    }
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (status, description) in statuses {
        responses.entry(status).or_insert_with(|| {
            serde_json::json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
            })
        });
    }
}

/// Sets `enum` on a string schema (with `null` too when the schema allows null).
fn set_enum(schema: &mut Value, allowed: &[String]) {
    let nullable = schema
        .get("type")
        .and_then(Value::as_array)
        .is_some_and(|types| types.iter().any(|t| t == "null"));
    let mut values: Vec<Value> = allowed.iter().map(|v| Value::from(v.as_str())).collect();
    if nullable {
        values.push(Value::Null);
    }
    schema["enum"] = Value::Array(values);
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

fn application_statuses() -> Vec<String> {
    use crate::app::applications::Status;
    Status::ALL.iter().map(|s| s.as_str().to_string()).collect()
}

/// The loan statuses `GET /loans?status=` accepts (`crate::app::loans::list`).
fn loan_statuses() -> Vec<String> {
    coopfund_domain::LoanStatus::ALL
        .iter()
        .map(|s| s.as_str().to_string())
        .collect()
}

/// `RepaymentBody.kind` (`crate::app::loans::repay`).
const REPAYMENT_KINDS: [&str; 2] = ["ordinary", "prepayment"];
/// `RestructureBody.kind` (`crate::app::loans::restructure`).
const RESTRUCTURE_KINDS: [&str; 2] = ["adjustment", "extension"];

fn query_enum(path: &str, name: &str) -> Option<Vec<String>> {
    match (path, name) {
        (_, "format") => Some(strings(&["json", "csv", "xlsx"])),
        ("/api/v1/applications", "status") => Some(application_statuses()),
        ("/api/v1/loans", "status") => Some(loan_statuses()),
        ("/api/v1/outbox", "status") => Some(strings(&crate::app::outbox::STATUSES)),
        ("/api/v1/reports/lending", "period") => Some(strings(&["h1", "h2", "year"])),
        _ => None,
    }
}

/// (schema, property, allowed values) of the fields the use cases check with a fixed set.
fn property_enums() -> Vec<(&'static str, &'static str, Vec<String>)> {
    use crate::app::{applications, outbox, products};
    let methods = strings(&products::METHODS);
    let day_counts = strings(&products::DAY_COUNTS);
    let prepayment_rules = strings(&products::PREPAYMENT_RULES);
    let kinds = strings(&coopfund_domain::CooperativeKind::ALL.map(|kind| kind.as_str()));
    let languages = strings(&["vi", "en"]);
    vec![
        ("ApplicationInput", "method", methods.clone()),
        ("ApplicationPatch", "method", methods.clone()),
        ("ApplicationView", "method", methods.clone()),
        ("ApplicationView", "status", application_statuses()),
        (
            "AppraisalInput",
            "recommendation",
            applications::Recommendation::ALL
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
        ),
        ("CooperativeInput", "kind", kinds.clone()),
        ("CooperativePatch", "kind", kinds.clone()),
        ("CooperativeView", "kind", kinds),
        (
            "ProfileBody",
            "sector",
            strings(&crate::app::cooperative_profiles::SECTORS),
        ),
        (
            "ProfileBody",
            "rating",
            strings(&crate::app::cooperative_profiles::RATINGS),
        ),
        ("CooperativeInput", "language", languages.clone()),
        ("CooperativePatch", "language", languages.clone()),
        ("NewUser", "language", languages),
        (
            "NewUser",
            "role",
            crate::auth::Role::ALL
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
        ),
        ("LoanView", "status", loan_statuses()),
        ("LoanView", "method", methods.clone()),
        ("LoanView", "day_count", day_counts.clone()),
        ("OutboxView", "status", strings(&outbox::STATUSES)),
        ("PreviewRequest", "method", methods.clone()),
        ("PreviewRequest", "day_count", day_counts.clone()),
        ("ProductInput", "day_count", day_counts.clone()),
        ("ProductPatch", "day_count", day_counts.clone()),
        ("ProductView", "day_count", day_counts),
        ("ProductInput", "prepayment_rule", prepayment_rules.clone()),
        ("ProductPatch", "prepayment_rule", prepayment_rules.clone()),
        ("ProductView", "prepayment_rule", prepayment_rules),
        ("RepaymentBody", "kind", strings(&REPAYMENT_KINDS)),
        (
            "TransactionView",
            "repayment_kind",
            strings(&REPAYMENT_KINDS),
        ),
        ("RestructureBody", "kind", strings(&RESTRUCTURE_KINDS)),
        ("RestructureBody", "method", methods),
    ]
}

#[cfg(test)]
mod dump {
    /// Writes the served document to `$OPENAPI_DUMP` (to compare two builds).
    #[test]
    #[ignore]
    fn dump_the_document() {
        let (_, openapi) = crate::http::api_routes().split_for_parts();
        let doc = super::completed(&openapi);
        let path = std::env::var("OPENAPI_DUMP").unwrap();
        std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    }
}
