//! `GET /api/v1/loans/{id}/payment-qr` (issue 10 §4): the VietQR code a cooperative scans to pay. The test
//! reads the code back from the SVG the API serves (rasterised here, decoded by rqrr, a decoder independent of
//! the encoder) and checks the payload field by field against the configuration, the loan and the amount the
//! loan page shows as the next payment.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::{error_of, spawn_app_with, TestApp},
    loan_fixtures::{active_loan, approved_loan, example_3, json_of, set_date, Staff},
};

const BIN: &str = "970415";
const ACCOUNT: &str = "113366668888";

async fn app_with_bank() -> TestApp {
    spawn_app_with(|settings| {
        settings.mail.bank_bin = BIN.into();
        settings.mail.bank_account_number = ACCOUNT.into();
    })
    .await
}

/// One level of EMVCo data objects (ID, 2-digit length, value), in order; panics on a malformed payload.
pub(crate) fn objects(text: &str) -> Vec<(String, String)> {
    let mut rest = text;
    let mut out = Vec::new();
    while !rest.is_empty() {
        assert!(rest.len() >= 4, "truncated data object in {text:?}");
        let id = rest[..2].to_string();
        let len: usize = rest[2..4].parse().expect("two-digit length");
        out.push((id, rest[4..4 + len].to_string()));
        rest = &rest[4 + len..];
    }
    out
}

pub(crate) fn value_of(objects: &[(String, String)], id: &str) -> String {
    objects
        .iter()
        .find(|(key, _)| key == id)
        .unwrap_or_else(|| panic!("no data object {id} in {objects:?}"))
        .1
        .clone()
}

/// CRC-16/CCITT-FALSE, written here again so the test does not check the service with its own code.
pub(crate) fn crc16(bytes: &[u8]) -> u16 {
    let mut crc = 0xFFFFu16;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn attribute(svg: &str, name: &str) -> u32 {
    let key = format!(" {name}=\"");
    let start = svg.find(&key).unwrap_or_else(|| panic!("no {name} in svg")) + key.len();
    let end = start + svg[start..].find('"').expect("closing quote");
    svg[start..end].parse().expect("a whole number")
}

/// The text of the QR code the SVG draws: its dark rectangles (`M{x} {y}h{w}v{h}H{x}V{y}` path commands) are
/// painted on a white bitmap, which rqrr decodes.
fn decode_svg(svg: &str) -> String {
    assert!(svg.starts_with("<svg"), "inline SVG: {svg:.60}");
    let (width, height) = (attribute(svg, "width"), attribute(svg, "height"));
    let mut pixels = vec![255u8; (width * height) as usize];
    let start = svg.find(" d=\"").expect("a path") + 4;
    let end = start + svg[start..].find('"').expect("path end");
    for command in svg[start..end].split('M').filter(|c| !c.is_empty()) {
        let numbers: Vec<u32> = command
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().unwrap())
            .collect();
        let [x, y, w, h, ..] = numbers[..] else {
            panic!("unexpected path command {command:?}")
        };
        for row in y..y + h {
            for col in x..x + w {
                pixels[(row * width + col) as usize] = 0;
            }
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width as usize, height as usize, |x, y| {
            pixels[y * width as usize + x]
        });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the SVG");
    let (_, text) = grids[0].decode().expect("the QR code decodes");
    text
}

/// The text of the QR code a PNG draws (a reminder mail's inline image): decoded by the `png` crate,
/// read by rqrr.
pub(crate) fn decode_png(bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a size")];
    let frame = reader.next_frame(&mut buffer).expect("a frame");
    assert_eq!(
        frame.color_type,
        png::ColorType::Grayscale,
        "a greyscale code"
    );
    let (width, height) = (frame.width as usize, frame.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        buffer[y * frame.line_size + x]
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the PNG");
    let (_, text) = grids[0].decode().expect("the QR code decodes");
    text
}

/// Checks every field of a VietQR payload for the account `bin`/`account`; returns the amount it
/// asks for.
pub(crate) fn assert_vietqr_to(payload: &str, bin: &str, account: &str, loan_number: &str) -> i64 {
    let top = objects(payload);
    let merchant = objects(&value_of(&top, "38"));
    let beneficiary = objects(&value_of(&merchant, "01"));
    assert_eq!(value_of(&beneficiary, "00"), bin, "{payload}");
    assert_eq!(value_of(&beneficiary, "01"), account, "{payload}");
    assert_vietqr_fields(payload, loan_number)
}

/// Checks every field of a VietQR payload; returns the amount it asks for.
fn assert_vietqr(payload: &str, loan_number: &str) -> i64 {
    assert_vietqr_to(payload, BIN, ACCOUNT, loan_number)
}

/// Every field but the beneficiary account.
fn assert_vietqr_fields(payload: &str, loan_number: &str) -> i64 {
    let top = objects(payload);
    let ids: Vec<&str> = top.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        ["00", "01", "38", "53", "54", "58", "62", "63"],
        "{payload}"
    );
    assert_eq!(value_of(&top, "00"), "01");
    assert_eq!(value_of(&top, "01"), "12", "a code with an amount");
    let merchant = objects(&value_of(&top, "38"));
    assert_eq!(value_of(&merchant, "00"), "A000000727");
    assert_eq!(value_of(&merchant, "02"), "QRIBFTTA");
    assert_eq!(value_of(&top, "53"), "704");
    assert_eq!(value_of(&top, "58"), "VN");
    assert_eq!(value_of(&objects(&value_of(&top, "62")), "08"), loan_number);
    let (body, crc) = payload.split_at(payload.len() - 4);
    assert!(body.ends_with("6304"));
    assert_eq!(crc, format!("{:04X}", crc16(body.as_bytes())));
    value_of(&top, "54").parse().expect("a whole amount")
}

async fn payment_qr(app: &TestApp, loan_id: i64, query: &str, token: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/loans/{loan_id}/payment-qr{query}"), token)
        .await
}

async fn loan(app: &TestApp, loan_id: i64, token: &str) -> Value {
    json_of(
        app.get(&format!("/api/v1/loans/{loan_id}"), token).await,
        StatusCode::OK,
    )
    .await
}

#[tokio::test]
async fn the_code_pays_the_next_payment_to_the_funds_account_naming_the_loan() {
    let app = app_with_bank().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let member = app.user_token("cooperative", Some(coop)).await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;

    // Before the first due date: the next installment, 10,000,000 + 1,019,178 (DOMAIN.md example 3).
    set_date(&app, "2026-02-01").await;
    let view = loan(&app, loan_id, &member).await;
    let number = view["number"].as_str().unwrap().to_string();
    let qr = json_of(payment_qr(&app, loan_id, "", &member).await, StatusCode::OK).await;
    let payload = qr["payload"].as_str().unwrap();
    assert_eq!(qr["amount_vnd"], 11_019_178, "{qr}");
    assert_eq!(view["next_due"]["total_vnd"], 11_019_178, "{view}");
    assert_eq!(decode_svg(qr["svg"].as_str().unwrap()), payload);
    assert_eq!(assert_vietqr(payload, &number), 11_019_178);

    // Ten days late: everything due and overdue today (with overdue and late interest), as the loan shows.
    set_date(&app, "2026-02-20").await;
    let view = loan(&app, loan_id, &staff.auditor).await;
    let owed_now = view["owed_now_vnd"].as_i64().unwrap();
    assert_eq!(owed_now, 10_000_000 + 1_019_178 + 49_315 + 2_792, "{view}");
    let qr = json_of(
        payment_qr(&app, loan_id, "", &staff.auditor).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(qr["amount_vnd"], owed_now);
    let payload = decode_svg(qr["svg"].as_str().unwrap());
    assert_eq!(payload, qr["payload"].as_str().unwrap());
    assert_eq!(assert_vietqr(&payload, &number), owed_now);

    // Another amount on request, e.g. the payoff.
    let qr = json_of(
        payment_qr(&app, loan_id, "?amount_vnd=90000000", &member).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(qr["amount_vnd"], 90_000_000);
    assert_eq!(
        assert_vietqr(&decode_svg(qr["svg"].as_str().unwrap()), &number),
        90_000_000
    );
}

#[tokio::test]
async fn only_the_loans_cooperative_and_staff_get_a_code_and_the_amount_is_checked() {
    let app = app_with_bank().await;
    let staff = Staff::new(&app).await;
    let coop = app.cooperative().await;
    let other = app.cooperative().await;
    let stranger = app.user_token("cooperative", Some(other)).await;
    let loan_id = active_loan(&app, &staff, coop, &example_3(), "2026-01-10").await;

    let error = error_of(
        payment_qr(&app, loan_id, "", &stranger).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(error["code"], "not_found");
    error_of(
        payment_qr(&app, 999_999_999, "", &staff.officer).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    for token in [
        &staff.officer,
        &staff.accountant,
        &staff.approver,
        &staff.auditor,
    ] {
        json_of(payment_qr(&app, loan_id, "", token).await, StatusCode::OK).await;
    }

    for bad in [
        "0",
        "-1",
        "1.5",
        "1e6",
        "abc",
        "1,000",
        "",
        "99999999999999",
    ] {
        let error = error_of(
            payment_qr(&app, loan_id, &format!("?amount_vnd={bad}"), &staff.officer).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            (error["code"].as_str(), error["field"].as_str()),
            (Some("invalid_amount"), Some("amount_vnd")),
            "{bad:?}: {error}"
        );
    }
    // An unknown parameter is a malformed query, as everywhere.
    error_of(
        payment_qr(&app, loan_id, "?amount=5", &staff.officer).await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // Nothing to pay before the money is out.
    let approved = approved_loan(&app, coop, &example_3()).await;
    let error = error_of(
        payment_qr(&app, approved, "", &staff.officer).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["code"], "nothing_to_pay");
}
