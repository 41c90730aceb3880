//! The cooperative's self-service (issue 10): supporting documents of an application (type by
//! content, served only as a download, scoped to the cooperative), the recipients and language a
//! cooperative chooses for the fund's mails (reaching a real SMTP server), and a statement for a
//! period.

use coopfund::{
    app::{application_documents, context::AppCtx, loans, notifications, Caller},
    auth::Role,
    mail::worker::Worker,
    store::entities::outbox_message,
};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::{
    cob_e2e::fund,
    helpers::{error_of, spawn_app, unique, TestApp},
    loan_fixtures::{active_loan, example_3, json_of, repay, run_cob, Staff},
    smtp::SmtpServer,
};

const A_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
const A_JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1,
];

async fn upload(
    app: &TestApp,
    id: i64,
    token: &str,
    name: &str,
    bytes: &[u8],
) -> reqwest::Response {
    app.client
        .post(app.url(&format!(
            "/api/v1/applications/{id}/documents?file_name={}",
            urlencode(name)
        )))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("request")
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A draft application of the cooperative `coop`, created by its own user `member`.
async fn draft(app: &TestApp, member: &str) -> i64 {
    let product = json_of(
        app.post(
            "/api/v1/products",
            &app.admin_token,
            &json!({
                "code": unique("SP"), "name": "Vốn lưu động", "rate_percent": "6.0",
                "methods": ["equal_principal"], "period_months": [1],
                "min_amount_vnd": 10_000_000, "max_amount_vnd": 1_000_000_000,
                "min_installments": 3, "max_installments": 24, "max_principal_grace": 2,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let created = json_of(
        app.post(
            "/api/v1/applications",
            member,
            &json!({
                "product_id": product["id"], "amount_vnd": 120_000_000, "installments": 6,
                "period_months": 1, "method": "equal_principal", "purpose": "Mua phân bón",
                "project_total_vnd": 200_000_000, "own_capital_vnd": 80_000_000,
                "no_bad_debt_declared": true,
            }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    created["id"].as_i64().expect("id")
}

#[tokio::test]
async fn a_cooperative_attaches_a_pdf_and_a_jpeg_checked_by_content_and_staff_download_them_as_files(
) {
    let app = spawn_app().await;
    let coop = app.cooperative().await;
    let member = app.user_token("cooperative", Some(coop)).await;
    let officer = app.user_token("officer", None).await;
    let auditor = app.user_token("auditor", None).await;
    let stranger = app
        .user_token("cooperative", Some(app.cooperative().await))
        .await;
    let id = draft(&app, &member).await;

    let pdf = json_of(
        upload(&app, id, &member, "Phương án kinh doanh.pdf", A_PDF).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(pdf["content_type"], "application/pdf", "{pdf}");
    assert_eq!(pdf["file_name"], "Phương án kinh doanh.pdf");
    assert_eq!(pdf["size_bytes"], A_PDF.len());
    // The name says PDF, the content is a JPEG: the content decides.
    let jpeg = json_of(
        upload(&app, id, &officer, "anh-so-do.pdf", A_JPEG).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(jpeg["content_type"], "image/jpeg", "{jpeg}");
    // HTML named like a PDF is refused, as is an empty file.
    let error = error_of(
        upload(
            &app,
            id,
            &member,
            "hoso.pdf",
            b"<html><script>alert(1)</script>",
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert_eq!(error["code"], "unsupported_document_type");
    assert_eq!(error["field"], "file");
    error_of(
        upload(&app, id, &member, "x.pdf", b"").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Another cooperative cannot see or add to it; a role that does not apply cannot add.
    error_of(
        upload(&app, id, &stranger, "x.pdf", A_PDF).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    error_of(
        app.get(&format!("/api/v1/applications/{id}/documents"), &stranger)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    error_of(
        upload(&app, id, &auditor, "x.pdf", A_PDF).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // The officer and the auditor list them and download each as an attachment of its type.
    let listed = json_of(
        app.get(&format!("/api/v1/applications/{id}/documents"), &auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    let response = app
        .get(
            &format!("/api/v1/applications/{id}/documents/{}", pdf["id"]),
            &officer,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/pdf");
    let disposition = headers["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''Ph%C6%B0%C6%A1ng"),
        "{disposition}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.unwrap().as_ref(), A_PDF);
    error_of(
        app.get(
            &format!("/api/v1/applications/{id}/documents/{}", pdf["id"]),
            &stranger,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    error_of(
        app.get(
            &format!("/api/v1/applications/{id}/documents/999999"),
            &officer,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Once withdrawn, nothing more is added.
    json_of(
        app.post(
            &format!("/api/v1/applications/{id}/withdraw"),
            &member,
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let error = error_of(
        upload(&app, id, &member, "late.pdf", A_PDF).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(error["code"], "application_closed");
}

/// A PDF of `size` bytes: a real header and trailer around a comment of filler.
fn a_pdf_of(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n%".to_vec();
    let tail = b"\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    bytes.resize(size - tail.len(), b'x');
    bytes.extend_from_slice(tail);
    bytes
}

#[tokio::test]
async fn a_document_up_to_five_mb_is_uploaded_past_the_server_body_limit_and_a_larger_one_is_refused_in_the_callers_language(
) {
    let app = spawn_app().await;
    let coop = app.cooperative().await;
    let member = app.user_token("cooperative", Some(coop)).await;
    let id = draft(&app, &member).await;
    let body_limit = app.settings.server.body_limit_bytes;

    // A scanned plan of about 1 MB: well over the server's body limit, under the 5 MB document limit.
    let scan = a_pdf_of(1_000_000);
    assert!(scan.len() > 3 * body_limit);
    let stored = json_of(
        upload(&app, id, &member, "Phương án (bản quét).pdf", &scan).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(stored["size_bytes"], 1_000_000, "{stored}");
    assert_eq!(stored["content_type"], "application/pdf");
    let response = app
        .get(
            &format!("/api/v1/applications/{id}/documents/{}", stored["id"]),
            &member,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap().as_ref(), scan.as_slice());

    // Exactly 5 MiB is taken; one byte more is the document rule's refusal.
    let at_limit = a_pdf_of(application_documents::MAX_DOCUMENT_BYTES);
    json_of(
        upload(&app, id, &member, "dung-5MB.pdf", &at_limit).await,
        StatusCode::CREATED,
    )
    .await;
    let over = a_pdf_of(application_documents::MAX_DOCUMENT_BYTES + 1);
    let error = error_of(
        upload(&app, id, &member, "qua-5MB.pdf", &over).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(error["code"], "document_too_large");

    // 6 MB, stopped by the route's body limit before it is read: the same code, in the caller's
    // language, and nothing stored.
    let six_mb = a_pdf_of(6 * 1024 * 1024);
    for (language, words) in [("vi", "tối đa 5 MB"), ("en", "5 MB at most")] {
        let response = app
            .client
            .post(app.url(&format!(
                "/api/v1/applications/{id}/documents?file_name=qua-lon.pdf"
            )))
            .bearer_auth(&member)
            .header("accept-language", language)
            .header("content-type", "application/octet-stream")
            .body(six_mb.clone())
            .send()
            .await
            .expect("request");
        assert_eq!(
            response.headers()["content-language"].to_str().unwrap(),
            language
        );
        let error = error_of(response, StatusCode::PAYLOAD_TOO_LARGE).await;
        assert_eq!(error["code"], "document_too_large", "{error}");
        assert_eq!(error["field"], "file");
        assert!(
            error["message"].as_str().unwrap().contains(words),
            "{language}: {error}"
        );
    }
    let listed = json_of(
        app.get(&format!("/api/v1/applications/{id}/documents"), &member)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");

    // Every other route keeps the server's body limit.
    let huge = format!(
        "{{\"purpose\": \"{}\", \"version\": 1}}",
        "x".repeat(body_limit)
    );
    let error = error_of(
        app.client
            .patch(app.url(&format!("/api/v1/applications/{id}")))
            .bearer_auth(&member)
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .expect("request"),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(error["code"], "payload_too_large");
}

fn ctx_of(app: &TestApp) -> AppCtx {
    AppCtx::new(app.db.clone(), std::sync::Arc::new(app.settings.clone()))
}

#[tokio::test]
async fn reminders_go_to_the_chair_and_the_accountant_the_cooperative_chose_in_its_language() {
    let server = SmtpServer::start();
    let app = fund(Some(server.port)).await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    let ctx = ctx_of(&app);
    let member = Caller::account(1, "htx.test", Role::Cooperative, Some(coop)).expect("caller");

    // Nothing chosen: the registered address and language.
    let before = notifications::get(&ctx, &member).await.expect("settings");
    assert_eq!(before.recipients, ["htx.tancuong@example.vn"]);
    assert!(!before.chosen);
    // A bad address is refused by its field; nothing is stored.
    let bad = notifications::update(
        &ctx,
        &member,
        notifications::NotificationChange {
            language: "en".into(),
            chair_email: "chair@example.vn, other@example.vn".into(),
            accountant_email: String::new(),
        },
    )
    .await
    .expect_err("two addresses in one field");
    assert_eq!(bad.field.as_deref(), Some("chair_email"));
    let chosen = notifications::update(
        &ctx,
        &member,
        notifications::NotificationChange {
            language: "en".into(),
            chair_email: "chu.tich@htx.example.vn".into(),
            accountant_email: "ke.toan@htx.example.vn".into(),
        },
    )
    .await
    .expect("stored");
    assert_eq!(
        chosen.recipients,
        ["chu.tich@htx.example.vn", "ke.toan@htx.example.vn"]
    );
    // Staff do not set a cooperative's choice.
    let officer = Caller::account(2, "officer", Role::Officer, None).expect("caller");
    assert_eq!(
        notifications::get(&ctx, &officer).await.unwrap_err().kind,
        coopfund::error::ErrorKind::Forbidden
    );

    // The T-7 reminder goes to both, in English, with its VietQR code.
    run_cob(&app, "2026-02-02").await;
    let worker = Worker::new(app.db.clone(), &app.settings).expect("worker");
    worker.run_once().await.expect("deliver");
    let rows = outbox_message::Entity::find()
        .filter(outbox_message::Column::Kind.eq("due_reminder"))
        .all(&app.db)
        .await
        .expect("outbox");
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(
        rows[0].recipient,
        "chu.tich@htx.example.vn, ke.toan@htx.example.vn"
    );
    assert_eq!(rows[0].language, "en");
    assert!(rows[0].qr_payload.is_some());
    let mails: Vec<_> = server
        .messages()
        .into_iter()
        .filter(|m| m.subject.starts_with("Payment reminder"))
        .collect();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(
        mails[0].rcpt_to.contains("chu.tich@htx.example.vn"),
        "{:?}",
        mails[0]
    );
    assert!(
        mails[0].rcpt_to.contains("ke.toan@htx.example.vn"),
        "{:?}",
        mails[0]
    );
    assert_eq!(mails[0].content_language, "en");
    let payload = crate::payment_qr::decode_png(&mails[0].images[0].bytes());
    assert_eq!(Some(payload), rows[0].qr_payload.clone());

    // The cooperative's list of its mails has it, with its state; another cooperative's does not.
    let listed = notifications::mails(
        &ctx,
        &member,
        coopfund::app::page::PageRequest::parse(Some(50), None).unwrap(),
    )
    .await
    .expect("mails");
    assert!(listed
        .items
        .iter()
        .any(|m| m.kind == "due_reminder" && m.status == "sent"));
    let other = Caller::account(
        3,
        "htx.other",
        Role::Cooperative,
        Some(app.cooperative().await),
    )
    .expect("caller");
    let theirs = notifications::mails(
        &ctx,
        &other,
        coopfund::app::page::PageRequest::parse(Some(50), None).unwrap(),
    )
    .await
    .expect("mails");
    assert!(
        theirs.items.iter().all(|m| m.kind != "due_reminder"),
        "{:?}",
        theirs.items
    );
    let _ = loan_id;
}

#[tokio::test]
async fn a_statement_for_a_period_opens_where_the_previous_one_closed() {
    let app = fund(None).await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;
    for (through, amount_vnd, value_date) in [
        ("2026-02-09", 11_019_178, "2026-02-10"),
        ("2026-03-09", 10_900_000, "2026-03-10"),
    ] {
        run_cob(&app, through).await;
        let paid = repay(&app, &staff, loan_id, amount_vnd, value_date, "ordinary").await;
        assert_eq!(paid.status(), StatusCode::CREATED);
    }
    let ctx = ctx_of(&app);
    let member = Caller::account(1, "htx.test", Role::Cooperative, Some(coop)).expect("caller");
    let date = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    let february = loans::statement_for_period(
        &ctx,
        &member,
        loan_id.into(),
        date("2026-01-01"),
        date("2026-02-28"),
    )
    .await
    .expect("february");
    let march = loans::statement_for_period(
        &ctx,
        &member,
        loan_id.into(),
        date("2026-03-01"),
        date("2026-03-31"),
    )
    .await
    .expect("march");
    assert_eq!(february.period.opening_principal.to_i64(), Some(0));
    assert_eq!(february.period.moved.disbursed.to_i64(), Some(100_000_000));
    assert_eq!(
        february.period.moved.paid_principal.to_i64(),
        Some(10_000_000)
    );
    assert_eq!(february.period.closing_principal.to_i64(), Some(90_000_000));
    assert_eq!(
        march.period.opening_principal,
        february.period.closing_principal
    );
    assert_eq!(
        march.period.opening_principal + march.period.moved.disbursed
            - march.period.moved.paid_principal
            - march.period.moved.written_off,
        march.period.closing_principal
    );
    let whole: Value = json_of(
        app.get(&format!("/api/v1/loans/{loan_id}"), &staff.auditor)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        march.period.closing_principal.to_i64(),
        Some(
            whole["in_term_principal_vnd"].as_i64().unwrap()
                + whole["overdue_principal_vnd"].as_i64().unwrap()
        )
    );
    // To before from is refused; another cooperative's loan is not found.
    let err = loans::statement_for_period(
        &ctx,
        &member,
        loan_id.into(),
        date("2026-03-01"),
        date("2026-02-01"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "invalid_period");
    let other = Caller::account(
        3,
        "htx.other",
        Role::Cooperative,
        Some(app.cooperative().await),
    )
    .expect("caller");
    let err = loans::statement_for_period(
        &ctx,
        &other,
        loan_id.into(),
        date("2026-01-01"),
        date("2026-03-31"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, coopfund::error::ErrorKind::NotFound);
    let _ = application_documents::MAX_DOCUMENTS;
}
