//! VietQR payloads: the text a Vietnamese banking app scans to prefill a transfer to the fund (issue 10 §4).
//!
//! The format is NAPAS's profile of the EMVCo merchant-presented QR code ("VietQR", service IBFT to account).
//! Every data object is `ID (2 digits) · length (2 digits) · value`; the objects written here, in this order:
//!
//! | ID | what | value |
//! |---|---|---|
//! | `00` | payload format indicator | `01` |
//! | `01` | point of initiation | `12`: the code carries an amount (used once per payment) |
//! | `38` | merchant account information | `00` GUID `A000000727` · `01` beneficiary (`00` bank BIN, `01` account number) · `02` service `QRIBFTTA` |
//! | `53` | currency | `704` (VND, ISO 4217) |
//! | `54` | amount | whole đồng, digits only |
//! | `58` | country | `VN` |
//! | `62` | additional data | `08` purpose: the loan number, so the transfer message names the loan |
//! | `63` | CRC | CRC-16/CCITT-FALSE, 4 upper-case hex digits, over the whole payload up to and including `6304` |
//!
//! Pure: no I/O, no image. Drawing the code is the service's job.

use std::fmt;

/// The GUID of NAPAS's VietQR in the merchant account information (`38`/`00`).
pub const NAPAS_GUID: &str = "A000000727";
/// The service code of a transfer to a bank account, 24/7 (`38`/`02`).
pub const SERVICE_TO_ACCOUNT: &str = "QRIBFTTA";
/// ISO 4217 numeric code of the đồng (`53`).
pub const CURRENCY_VND: &str = "704";
/// ISO 3166 country code (`58`).
pub const COUNTRY_VN: &str = "VN";
/// Point of initiation (`01`) of a code that carries an amount: meant for one payment.
pub const POINT_OF_INITIATION_WITH_AMOUNT: &str = "12";

/// What a VietQR transfer code says: pay `amount_vnd` to `account_number` at the bank `bank_bin`, with
/// `purpose` as the transfer message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VietQrTransfer<'a> {
    /// The beneficiary bank's NAPAS BIN: 6 digits (e.g. 970415).
    pub bank_bin: &'a str,
    /// The beneficiary account: 1 to 19 letters and digits.
    pub account_number: &'a str,
    /// Whole đồng, at least 1 and at most 13 digits (the EMVCo limit of field `54`).
    pub amount_vnd: i64,
    /// The transfer message (`62`/`08`): 1 to 25 printable ASCII characters (banks drop anything else).
    pub purpose: &'a str,
}

/// Why a VietQR payload cannot be made; each names the input at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VietQrError {
    /// The BIN is not 6 digits.
    BankBin,
    /// The account number is not 1 to 19 letters and digits.
    AccountNumber,
    /// The amount is not a positive number of at most 13 digits.
    Amount,
    /// The purpose is not 1 to 25 printable ASCII characters.
    Purpose,
}

impl VietQrError {
    /// The name of the input at fault, as the configuration or request calls it.
    pub fn field(&self) -> &'static str {
        match self {
            VietQrError::BankBin => "bank_bin",
            VietQrError::AccountNumber => "bank_account_number",
            VietQrError::Amount => "amount_vnd",
            VietQrError::Purpose => "purpose",
        }
    }
}

impl fmt::Display for VietQrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            VietQrError::BankBin => "the bank BIN must be 6 digits",
            VietQrError::AccountNumber => "the account number must be 1 to 19 letters and digits",
            VietQrError::Amount => {
                "the amount must be a positive whole number of at most 13 digits"
            }
            VietQrError::Purpose => "the purpose must be 1 to 25 printable ASCII characters",
        };
        f.write_str(what)
    }
}

impl std::error::Error for VietQrError {}

/// One data object: ID, two-digit length, value. Callers keep every value under 100 characters.
fn tlv(out: &mut String, id: &str, value: &str) {
    debug_assert!(value.len() < 100, "an EMVCo value is at most 99 characters");
    out.push_str(id);
    out.push_str(&format!("{:02}", value.len()));
    out.push_str(value);
}

/// CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF, no reflection, no final xor), as EMVCo's field
/// `63` requires.
pub fn crc16_ccitt_false(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
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

/// The VietQR payload of `transfer`, CRC included; refuses inputs no bank would accept.
pub fn payload(transfer: &VietQrTransfer<'_>) -> Result<String, VietQrError> {
    let bin = transfer.bank_bin;
    if bin.len() != 6 || !bin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VietQrError::BankBin);
    }
    let account = transfer.account_number;
    if account.is_empty()
        || account.len() > 19
        || !account.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(VietQrError::AccountNumber);
    }
    if transfer.amount_vnd <= 0 || transfer.amount_vnd > 9_999_999_999_999 {
        return Err(VietQrError::Amount);
    }
    let purpose = transfer.purpose;
    if purpose.is_empty()
        || purpose.len() > 25
        || !purpose.bytes().all(|b| (0x20..0x7F).contains(&b))
    {
        return Err(VietQrError::Purpose);
    }

    let mut beneficiary = String::new();
    tlv(&mut beneficiary, "00", bin);
    tlv(&mut beneficiary, "01", account);
    let mut merchant = String::new();
    tlv(&mut merchant, "00", NAPAS_GUID);
    tlv(&mut merchant, "01", &beneficiary);
    tlv(&mut merchant, "02", SERVICE_TO_ACCOUNT);
    let mut additional = String::new();
    tlv(&mut additional, "08", purpose);

    let mut out = String::new();
    tlv(&mut out, "00", "01");
    tlv(&mut out, "01", POINT_OF_INITIATION_WITH_AMOUNT);
    tlv(&mut out, "38", &merchant);
    tlv(&mut out, "53", CURRENCY_VND);
    tlv(&mut out, "54", &transfer.amount_vnd.to_string());
    tlv(&mut out, "58", COUNTRY_VN);
    tlv(&mut out, "62", &additional);
    // The CRC covers its own ID and length.
    out.push_str("6304");
    let crc = crc16_ccitt_false(out.as_bytes());
    out.push_str(&format!("{crc:04X}"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits one level of data objects; panics on a malformed payload (tests only).
    fn objects(text: &str) -> Vec<(&str, &str)> {
        let mut rest = text;
        let mut out = Vec::new();
        while !rest.is_empty() {
            let id = &rest[..2];
            let len: usize = rest[2..4].parse().expect("two-digit length");
            out.push((id, &rest[4..4 + len]));
            rest = &rest[4 + len..];
        }
        out
    }

    /// Published in the README of github.com/subiz/vietqr: 120,000 đồng to VietinBank (970415) account
    /// 0011001932418, message "ung ho lu lut".
    const SUBIZ_SAMPLE: &str = "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN62170813ung ho lu lut6304C15C";
    /// Published in the README of the npm package vietnam-qr-pay: 1,000 đồng to 970416 account 257678859,
    /// message "Chuyen tien".
    const QRPAY_SAMPLE: &str = "00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA5303704540410005802VN62150811Chuyen tien6304BBB8";

    #[test]
    fn reproduces_published_vietqr_codes_byte_for_byte() {
        let published = [
            (
                ("970415", "0011001932418", 120_000, "ung ho lu lut"),
                SUBIZ_SAMPLE,
            ),
            (("970416", "257678859", 1_000, "Chuyen tien"), QRPAY_SAMPLE),
        ];
        for ((bank_bin, account_number, amount_vnd, purpose), sample) in published {
            let transfer = VietQrTransfer {
                bank_bin,
                account_number,
                amount_vnd,
                purpose,
            };
            assert_eq!(payload(&transfer).unwrap(), sample);
        }
    }

    #[test]
    fn the_crc_covers_the_payload_including_6304() {
        for sample in [SUBIZ_SAMPLE, QRPAY_SAMPLE] {
            let (body, crc) = sample.split_at(sample.len() - 4);
            assert!(body.ends_with("6304"));
            assert_eq!(format!("{:04X}", crc16_ccitt_false(body.as_bytes())), crc);
            // Leaving "6304" out gives another value: the mistake this guards against.
            let without = &body[..body.len() - 4];
            assert_ne!(
                format!("{:04X}", crc16_ccitt_false(without.as_bytes())),
                crc
            );
        }
        // The standard check value of CRC-16/CCITT-FALSE.
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
    }

    #[test]
    fn every_field_is_where_the_format_puts_it() {
        let text = payload(&VietQrTransfer {
            bank_bin: "970405",
            account_number: "3900201001234",
            amount_vnd: 10_799_778,
            purpose: "KU-2026-000017",
        })
        .unwrap();
        let top = objects(&text);
        let ids: Vec<&str> = top.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, ["00", "01", "38", "53", "54", "58", "62", "63"]);
        assert_eq!(top[0].1, "01");
        assert_eq!(top[1].1, "12");
        let merchant = objects(top[2].1);
        assert_eq!(merchant[0], ("00", "A000000727"));
        assert_eq!(
            objects(merchant[1].1),
            [("00", "970405"), ("01", "3900201001234")]
        );
        assert_eq!(merchant[2], ("02", "QRIBFTTA"));
        assert_eq!(top[3].1, "704");
        assert_eq!(top[4].1, "10799778");
        assert_eq!(top[5].1, "VN");
        assert_eq!(objects(top[6].1), [("08", "KU-2026-000017")]);
        let body = &text[..text.len() - 4];
        assert_eq!(
            top[7].1,
            format!("{:04X}", crc16_ccitt_false(body.as_bytes()))
        );
    }

    #[test]
    fn refuses_what_a_bank_would_refuse() {
        let good = VietQrTransfer {
            bank_bin: "970405",
            account_number: "3900201001234",
            amount_vnd: 1,
            purpose: "KU-1",
        };
        assert!(payload(&good).is_ok());
        let cases = [
            (
                VietQrTransfer {
                    bank_bin: "97040",
                    ..good.clone()
                },
                VietQrError::BankBin,
            ),
            (
                VietQrTransfer {
                    bank_bin: "97040A",
                    ..good.clone()
                },
                VietQrError::BankBin,
            ),
            (
                VietQrTransfer {
                    account_number: "",
                    ..good.clone()
                },
                VietQrError::AccountNumber,
            ),
            (
                VietQrTransfer {
                    account_number: "3900 2010",
                    ..good.clone()
                },
                VietQrError::AccountNumber,
            ),
            (
                VietQrTransfer {
                    account_number: "12345678901234567890",
                    ..good.clone()
                },
                VietQrError::AccountNumber,
            ),
            (
                VietQrTransfer {
                    amount_vnd: 0,
                    ..good.clone()
                },
                VietQrError::Amount,
            ),
            (
                VietQrTransfer {
                    amount_vnd: -5,
                    ..good.clone()
                },
                VietQrError::Amount,
            ),
            (
                VietQrTransfer {
                    amount_vnd: 10_000_000_000_000,
                    ..good.clone()
                },
                VietQrError::Amount,
            ),
            (
                VietQrTransfer {
                    purpose: "",
                    ..good.clone()
                },
                VietQrError::Purpose,
            ),
            (
                VietQrTransfer {
                    purpose: "trả nợ",
                    ..good.clone()
                },
                VietQrError::Purpose,
            ),
            (
                VietQrTransfer {
                    purpose: "12345678901234567890123456",
                    ..good.clone()
                },
                VietQrError::Purpose,
            ),
        ];
        for (transfer, error) in cases {
            assert_eq!(payload(&transfer), Err(error), "{transfer:?}");
        }
        // The largest amount the field holds is accepted.
        assert!(payload(&VietQrTransfer {
            amount_vnd: 9_999_999_999_999,
            ..good
        })
        .is_ok());
    }
}
