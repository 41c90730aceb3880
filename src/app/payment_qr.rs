//! A VietQR code to pay a loan (issue 10 §4): the payload ([`coopfund_domain::vietqr`]) for the fund's bank
//! account (`mail.bank_bin`, `mail.bank_account_number` in the configuration) with the loan number as the
//! transfer message, drawn as an SVG a page can inline.
//!
//! The amount is what the loan page shows as the next payment: everything due and overdue today
//! (`owed_now_vnd`) when there is any, otherwise the next installment net of the advance (`next_due.total_vnd`).
//! A caller may ask for another amount (`?amount_vnd=`), e.g. to pay off.

use qrcode::{render::svg, EcLevel, QrCode};
use serde::Serialize;

use coopfund_domain::vietqr::{self, VietQrError, VietQrTransfer};

use super::{loans, Caller};
use crate::error::{AppError, AppResult, ErrorKind, Localized};
use coopfund_domain::LoanStatus;

/// The amount a payment code asks for: a positive whole number of đồng as typed (default: the next
/// payment); [`payment_qr`] reads it (422 `invalid_amount` when it is not one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentQrQuery {
    /// Whole đồng, digits only, at least 1 (default: the amount to pay next).
    pub amount_vnd: Option<String>,
}

/// A VietQR code to pay a loan.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentQr {
    /// The VietQR text the code holds (NAPAS EMVCo, CRC included).
    pub payload: String,
    /// The amount the code asks for.
    pub amount_vnd: i64,
    /// The code as an SVG document without XML declaration, ready to inline in a page.
    pub svg: String,
}

/// 422 `invalid_amount`: `?amount_vnd=` is not a positive whole number of đồng the code can carry.
fn invalid_amount() -> AppError {
    AppError::new(
        ErrorKind::Rule,
        "invalid_amount",
        Localized::new(
            "Số tiền phải là số đồng nguyên dương, tối đa 13 chữ số.",
            "The amount must be a positive whole number of đồng, at most 13 digits.",
        ),
    )
    .with_field("amount_vnd")
}

/// 422 `nothing_to_pay`: the loan has no payment to make (not disbursed, settled, or fully covered).
fn nothing_to_pay() -> AppError {
    AppError::new(
        ErrorKind::Rule,
        "nothing_to_pay",
        Localized::new(
            "Khoản vay này hiện không có khoản nào cần trả.",
            "There is nothing to pay on this loan now.",
        ),
    )
}

/// The amount of `?amount_vnd=`: digits only (no sign, no decimals, no separators), positive.
fn parse_amount(text: &str) -> AppResult<i64> {
    if text.is_empty() || text.len() > 13 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_amount());
    }
    match text.parse::<i64>() {
        Ok(amount) if amount > 0 => Ok(amount),
        _ => Err(invalid_amount()),
    }
}

/// The next payment as the loan page shows it: what is due and overdue today, else the next installment
/// net of the advance; 0 when there is none.
fn amount_to_pay_next(view: &loans::LoanView) -> AppResult<i64> {
    let amount = if view.owed_now_vnd.is_positive() {
        view.owed_now_vnd
    } else {
        view.next_due
            .as_ref()
            .map_or(coopfund_domain::Vnd::ZERO, |next| next.total_vnd)
    };
    crate::app::ledger::stored_vnd(amount)
}

/// The payment code of loan `id` (any role that may read the loan; a cooperative only its own, 404 else).
#[tracing::instrument(name = "draw a payment code", skip_all, fields(loan_id = id))]
pub async fn payment_qr(
    ctx: &crate::app::context::AppCtx,
    caller: &Caller,
    id: i64,
    query: PaymentQrQuery,
) -> AppResult<PaymentQr> {
    let bank = &ctx.settings.mail;
    let view = loans::get(ctx, caller, id.into()).await?;
    // No transfer is expected before the money is out, nor after the loan is settled.
    if matches!(
        view.status,
        LoanStatus::Approved
            | LoanStatus::ContractSigned
            | LoanStatus::Closed
            | LoanStatus::Recovered
    ) {
        return Err(nothing_to_pay());
    }
    let amount_vnd = match query.amount_vnd.as_deref() {
        Some(text) => parse_amount(text)?,
        None => match amount_to_pay_next(&view)? {
            0 => return Err(nothing_to_pay()),
            amount => amount,
        },
    };
    let payload = vietqr::payload(&VietQrTransfer {
        bank_bin: &bank.bank_bin,
        account_number: &bank.bank_account_number,
        amount_vnd,
        purpose: &view.number,
    })
    .map_err(|err| match err {
        VietQrError::Amount => invalid_amount(),
        // The bank settings are validated at start and loan numbers are ASCII: this is our fault.
        other => AppError::internal(anyhow::anyhow!(
            "no VietQR code for loan {}: {} ({})",
            view.id,
            other,
            other.field()
        )),
    })?;
    let svg = draw_svg(&payload)?;
    Ok(PaymentQr {
        payload,
        amount_vnd,
        svg,
    })
}

/// The QR code of `payload` as inline SVG: error correction M (what banking apps print), quiet zone kept,
/// at least 264 px wide; the XML declaration is dropped, as HTML forbids it inside a page.
pub fn draw_svg(payload: &str) -> AppResult<String> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|err| AppError::internal(anyhow::anyhow!("QR code not drawn: {err}")))?;
    let document = code
        .render::<svg::Color<'_>>()
        .min_dimensions(264, 264)
        .quiet_zone(true)
        .build();
    let inline = match document.find("<svg") {
        Some(start) => document[start..].to_owned(),
        None => document,
    };
    Ok(inline)
}

/// Pixels per module of the PNG code: 6 px, so the 264 px minimum of the page holds for a mail too.
const PNG_MODULE_PX: usize = 6;
/// The quiet zone around the PNG code, in modules (the QR standard asks for 4).
const PNG_QUIET_MODULES: usize = 4;

/// The QR code of `payload` as a PNG (8-bit greyscale, error correction M, 4-module quiet zone), the
/// image a reminder mail carries inline.
pub fn draw_png(payload: &str) -> AppResult<Vec<u8>> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|err| AppError::internal(anyhow::anyhow!("QR code not drawn: {err}")))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * PNG_QUIET_MODULES) * PNG_MODULE_PX;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (x, y) = (index % modules, index / modules);
        for dy in 0..PNG_MODULE_PX {
            let row = (y + PNG_QUIET_MODULES) * PNG_MODULE_PX + dy;
            let start = row * side + (x + PNG_QUIET_MODULES) * PNG_MODULE_PX;
            pixels[start..start + PNG_MODULE_PX].fill(0);
        }
    }
    let side_u32 = u32::try_from(side).map_err(AppError::internal)?;
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, side_u32, side_u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let png_error = |err: png::EncodingError| AppError::internal(anyhow::anyhow!("QR PNG: {err}"));
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&pixels).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(png_bytes)
}

/// The VietQR payload asking `amount_vnd` for loan `loan_number` to the fund's configured account, or
/// `None` when there is nothing to ask (a zero amount) or the code cannot carry it. A mail without a
/// code still names the account and the message in its text.
pub fn payload_for(
    settings: &crate::config::Settings,
    loan_number: &str,
    amount_vnd: i64,
) -> Option<String> {
    if amount_vnd <= 0 {
        return None;
    }
    vietqr::payload(&VietQrTransfer {
        bank_bin: &settings.mail.bank_bin,
        account_number: &settings.mail.bank_account_number,
        amount_vnd,
        purpose: loan_number,
    })
    .map_err(|err| tracing::warn!(%err, loan_number, "no VietQR code for a mail"))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amount_is_whole_positive_digits() {
        assert_eq!(parse_amount("10799778").unwrap(), 10_799_778);
        assert_eq!(parse_amount("1").unwrap(), 1);
        for bad in [
            "",
            "0",
            "000",
            "-5",
            "+5",
            "1.5",
            "1,000",
            "1e6",
            "abc",
            "12345678901234",
        ] {
            let err = parse_amount(bad).unwrap_err();
            assert_eq!(
                (err.kind, err.code.as_str()),
                (ErrorKind::Rule, "invalid_amount"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_png_is_a_square_greyscale_image_with_a_quiet_zone() {
        let bytes = draw_png("00020101021238570010A000000727").unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(frame.width, frame.height);
        assert!(frame.width >= 150, "{}", frame.width);
        // The corner is the quiet zone (white); the finder pattern starts 4 modules in (dark).
        assert_eq!(pixels[0], 255);
        let inside = (PNG_QUIET_MODULES * PNG_MODULE_PX) * frame.width as usize
            + PNG_QUIET_MODULES * PNG_MODULE_PX;
        assert_eq!(pixels[inside], 0);
    }

    #[test]
    fn the_svg_is_inline_ready() {
        let svg = draw_svg("00020101021238570010A000000727").unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.ends_with("</svg>"));
    }
}
