//! The wire types of `GET /api/v1/loans/{id}/payment-qr`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::payment_qr::{PaymentQr, PaymentQrQuery};

view! {
    /// `?amount_vnd=` of the payment code: a positive whole number of đồng (default: the next payment).
    #[derive(Debug, Clone, Default, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[serde(deny_unknown_fields)]
    pub struct PaymentQrParams into PaymentQrQuery {
        /// Whole đồng, digits only, at least 1 (default: the amount to pay next).
        #[param(value_type = Option<i64>)]
        pub amount_vnd: Option<String>,
    }
}

view! {
    /// A VietQR code to pay a loan.
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct PaymentQrView from PaymentQr {
        /// The VietQR text the code holds (NAPAS EMVCo, CRC included).
        pub payload: String,
        /// The amount the code asks for.
        pub amount_vnd: i64,
        /// The code as an SVG document without XML declaration, ready to inline in a page.
        pub svg: String,
    }
}
