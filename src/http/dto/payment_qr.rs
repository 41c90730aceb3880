//! The wire types of `GET /api/v1/loans/{id}/payment-qr`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::payment_qr::{PaymentQr, PaymentQrQuery};

/// `?amount_vnd=` of the payment code: a positive whole number of đồng (default: the next payment).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PaymentQrParams {
    /// Whole đồng, digits only, at least 1 (default: the amount to pay next).
    #[param(value_type = Option<i64>)]
    pub amount_vnd: Option<String>,
}

impl From<PaymentQrParams> for PaymentQrQuery {
    fn from(params: PaymentQrParams) -> PaymentQrQuery {
        PaymentQrQuery {
            amount_vnd: params.amount_vnd,
        }
    }
}

/// A VietQR code to pay a loan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentQrView {
    /// The VietQR text the code holds (NAPAS EMVCo, CRC included).
    pub payload: String,
    /// The amount the code asks for.
    pub amount_vnd: i64,
    /// The code as an SVG document without XML declaration, ready to inline in a page.
    pub svg: String,
}

impl From<PaymentQr> for PaymentQrView {
    fn from(code: PaymentQr) -> PaymentQrView {
        PaymentQrView {
            payload: code.payload,
            amount_vnd: code.amount_vnd,
            svg: code.svg,
        }
    }
}
