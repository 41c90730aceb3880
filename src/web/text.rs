//! Every fixed string of the pages, in Vietnamese and English, in this one file.
//!
//! The same mechanism as [`crate::error::Localized`]: each message is written once as a pair
//! (Vietnamese, English) and the caller's [`Lang`] picks one. The [`crate::texts!`] macro turns the pairs
//! into one struct with a field per message and one value of it per language, so a template that
//! names a message that does not exist, or a language that lacks one, does not compile. Messages
//! with numbers in them are built with `Localized::new(format!(…), format!(…))` where they are used;
//! errors from the use cases already carry their `Localized` message.

use crate::error::{Lang, Localized};

/// Declares a struct of page strings and its two values, one per language:
/// `texts! { Name, VI_NAME, EN_NAME; key: "vi", "en"; … }`. Each area of the site (`web::<area>`)
/// declares its own strings with it next to its pages; this file holds the shell's.
#[macro_export]
macro_rules! texts {
    ($name:ident, $vi_name:ident, $en_name:ident; $($key:ident: $vi:expr, $en:expr;)*) => {
        /// The fixed strings of these pages in one language.
        #[allow(missing_docs)]
        pub struct $name { $(pub $key: &'static str,)* }
        /// Tiếng Việt (the default).
        pub static $vi_name: $name = $name { $($key: $vi,)* };
        /// English.
        pub static $en_name: $name = $name { $($key: $en,)* };
        impl $name {
            /// The strings of `lang`.
            pub fn of(lang: $crate::error::Lang) -> &'static $name {
                match lang {
                    $crate::error::Lang::Vi => &$vi_name,
                    $crate::error::Lang::En => &$en_name,
                }
            }
        }
    };
}

texts! {
    Text, VI, EN;
    lang_code: "vi", "en";
    other_lang_code: "en", "vi";
    other_lang_name: "English", "Tiếng Việt";
    switch_lang: "Chuyển ngôn ngữ", "Switch language";
    app_name: "Quỹ HTX", "Coop Fund";
    skip_to_content: "Bỏ qua, tới nội dung chính", "Skip to main content";
    main_nav: "Điều hướng chính", "Main navigation";
    business_date: "Ngày làm việc", "Business date";
    logged_in_as: "Đăng nhập:", "Logged in:";
    login: "Đăng nhập", "Log in";
    login_title: "Đăng nhập hệ thống", "Sign in";
    logout: "Đăng xuất", "Log out";
    username: "Tên đăng nhập", "Username";
    password: "Mật khẩu", "Password";
    nav_dashboard: "Tổng quan", "Dashboard";
    nav_cooperatives: "Hợp tác xã", "Cooperatives";
    nav_loans: "Khoản vay", "Loans";
    nav_my_loans: "Khoản vay của HTX", "Our loans";
    nav_applications: "Hồ sơ vay", "Applications";
    nav_accounting: "Giải ngân & thu nợ", "Disburse & collect";
    nav_cob: "Khóa sổ", "Close of business";
    nav_charter_capital: "Vốn điều lệ", "Charter capital";
    nav_audit: "Kiểm soát", "Audit desk";
    nav_users: "Người dùng", "Users";
    nav_products: "Sản phẩm vay", "Loan products";
    nav_outbox: "Thư gửi đi", "Outgoing mail";
    nav_config: "Cấu hình", "Configuration";
    nav_my_applications: "Hồ sơ vay của HTX", "Our applications";
    nav_notifications: "Thông báo", "Notifications";
    not_found_title: "Không tìm thấy trang", "Page not found";
    not_found_text: "Trang bạn tìm không có, hoặc bạn không được xem.", "The page does not exist, or it is not yours to see.";
    forbidden_title: "Không được phép", "Not allowed";
    forbidden_text: "Vai trò của bạn không được phép làm việc này.", "Your role is not allowed to do this.";
    csrf_text: "Biểu mẫu đã hết hạn hoặc không hợp lệ. Hãy tải lại trang rồi thử lại.", "The form has expired or is not valid. Reload the page and try again.";
    error_title: "Có lỗi", "Something went wrong";
    back_home: "Về trang chính", "Back to the start page";
    dash_officer: "Việc của cán bộ tín dụng", "Loan officer's desk";
    dash_accountant: "Việc của kế toán", "Accountant's desk";
    dash_approver: "Việc của người phê duyệt", "Approver's desk";
    dash_overview: "Tổng quan danh mục", "Portfolio overview";
    my_applications: "Hồ sơ vay của tôi theo trạng thái", "My applications by state";
    no_applications: "Chưa có hồ sơ nào.", "No applications yet.";
    state: "Trạng thái", "State";
    count: "Số lượng", "Count";
    due_7_days: "Khoản vay đến hạn trong 7 ngày tới", "My loans due in the next 7 days";
    nothing_due: "Không có kỳ trả nợ nào đến hạn trong 7 ngày tới.", "Nothing falls due in the next 7 days.";
    overdue_by_band: "Nợ quá hạn theo số ngày quá hạn", "Overdue by days past due";
    no_overdue: "Không có khoản vay quá hạn.", "No loan is overdue.";
    dpd_band: "Số ngày quá hạn", "Days past due";
    loans_count: "Số khoản vay", "Loans";
    overdue_principal: "Gốc quá hạn", "Overdue principal";
    outstanding: "Dư nợ", "Outstanding";
    to_sign: "Khoản vay chờ ký hợp đồng", "Loans waiting for the contract";
    to_disburse: "Khoản vay chờ giải ngân", "Loans to disburse";
    none_waiting: "Không có.", "None.";
    cob_runs: "Các lần khóa sổ cuối ngày gần nhất", "Latest close-of-business runs";
    no_cob_runs: "Chưa có lần khóa sổ nào.", "No close of business has run yet.";
    cob_date: "Ngày khóa sổ", "Business date closed";
    cob_loans: "Khoản vay xử lý", "Loans processed";
    cob_entries: "Bút toán", "Entries";
    cob_errors: "Lỗi", "Errors";
    last_closed: "Ngày đã khóa sổ gần nhất", "Last closed day";
    approval_queue: "Hồ sơ chờ phê duyệt", "Applications waiting for a decision";
    queue_empty: "Không có hồ sơ nào chờ phê duyệt.", "No application is waiting.";
    application: "Hồ sơ", "Application";
    amount: "Số tiền", "Amount";
    debt_group: "Nhóm nợ", "Debt group";
    total: "Tổng", "Total";
    bad_debt_ratio: "Tỷ lệ nợ xấu", "Bad debt ratio";
    loan: "Khoản vay", "Loan";
    cooperative: "Hợp tác xã", "Cooperative";
    due_on: "Ngày đến hạn", "Due on";
    to_pay: "Phải trả", "To pay";
    status: "Trạng thái", "Status";
    principal: "Gốc", "Principal";
    interest: "Lãi", "Interest";
    rate: "Lãi suất", "Rate";
    term: "Kỳ hạn", "Term";
    installments_word: "kỳ", "installments";
    months_each: "tháng/kỳ", "months each";
    method: "Phương pháp", "Method";
    contract: "Hợp đồng", "Contract";
    signed_on: "Ngày ký", "Signed on";
    disbursed_on: "Giải ngân lần đầu", "First disbursed";
    terms: "Điều kiện vay", "Terms";
    balances: "Số dư", "Balances";
    as_of: "tính đến", "as of";
    disbursed: "Đã giải ngân", "Disbursed";
    in_term_principal: "Gốc trong hạn", "Principal in term";
    unpaid_interest: "Lãi chưa trả", "Unpaid interest";
    advance: "Tiền trả trước", "Advance held";
    written_off: "Đã xóa nợ", "Written off";
    dpd: "Số ngày quá hạn", "Days past due";
    next_due: "Kỳ tới", "Next installment";
    schedule: "Lịch trả nợ", "Repayment schedule";
    seq: "Kỳ", "No.";
    closing_balance: "Dư nợ cuối kỳ", "Balance after";
    paid: "Đã trả", "Paid";
    transactions: "Giao dịch", "Transactions";
    no_transactions: "Chưa có giao dịch.", "No transactions yet.";
    value_date: "Ngày hiệu lực", "Value date";
    kind: "Loại", "Kind";
    reference: "Số tham chiếu", "Reference";
    allocation: "Phân bổ", "Allocation";
    reversed_by: "Đã hủy bởi giao dịch", "Reversed by";
    post_repayment: "Thu nợ", "Post a repayment";
    repayment_title: "Thu nợ khoản vay", "Repayment of loan";
    payoff_on: "Số tiền tất toán ngày", "Payoff on";
    payoff_total: "Tổng tất toán", "Total payoff";
    overdue_interest: "Lãi quá hạn", "Overdue interest";
    late_interest: "Lãi chậm trả", "Late interest";
    current_interest: "Lãi trong hạn", "Current interest";
    restructured_interest: "Lãi đã cơ cấu", "Restructured interest";
    less_advance: "Trừ tiền trả trước", "Less advance held";
    amount_vnd_label: "Số tiền (đồng)", "Amount (đồng)";
    amount_hint: "Số nguyên đồng, ví dụ 12.500.000", "Whole đồng, e.g. 12,500,000";
    value_date_hint: "Không sau ngày làm việc", "Not after the business date";
    reference_hint: "Số chứng từ ngân hàng (UNC, phiếu thu…)", "The bank's reference (transfer slip, receipt…)";
    repayment_kind: "Loại thu nợ", "Kind of repayment";
    kind_ordinary: "Thông thường (số thừa giữ làm tiền trả trước)", "Ordinary (any excess is held as an advance)";
    kind_prepayment: "Trả nợ trước hạn (số thừa giảm gốc)", "Prepayment (any excess reduces principal)";
    show_payoff: "Xem số tất toán theo ngày này", "Show the payoff for this date";
    submit_repayment: "Ghi nhận khoản thu", "Post the repayment";
    cancel: "Hủy", "Cancel";
    repayment_posted: "Đã ghi nhận khoản thu nợ.", "The repayment was posted.";
    fix_errors: "Chưa ghi nhận: hãy sửa các lỗi bên dưới.", "Not posted: please correct the errors below.";
    search: "Tìm kiếm", "Search";
    search_hint: "Tên hoặc mã số đăng ký", "Name or registration code";
    district: "Huyện/Thành phố", "District";
    all_districts: "Tất cả", "All";
    registration_code: "Mã số", "Registration code";
    name: "Tên", "Name";
    members: "Thành viên", "Members";
    representative: "Người đại diện", "Representative";
    phone: "Điện thoại", "Phone";
    no_results: "Không tìm thấy hợp tác xã nào.", "No cooperative matches.";
    next_page: "Trang sau", "Next page";
    view_loans: "Xem khoản vay", "View loans";
    all_statuses: "Tất cả", "All";
    filter: "Lọc", "Filter";
    no_loans: "Không có khoản vay nào.", "No loans.";
    officer: "Cán bộ", "Officer";
    created_by: "Người tạo", "Created by";
}

/// The strings of `lang`.
pub fn text(lang: Lang) -> &'static Text {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// The names of stored codes (roles, statuses, kinds) as people read them; an unknown code is
/// shown as it is rather than hidden.
pub fn label(code: &str, lang: Lang) -> String {
    let pair: Option<(&str, &str)> = match code {
        // roles
        "admin" => Some(("Quản trị", "Administrator")),
        "officer" => Some(("Cán bộ tín dụng", "Loan officer")),
        "approver" => Some(("Người phê duyệt", "Approver")),
        "accountant" => Some(("Kế toán", "Accountant")),
        "auditor" => Some(("Kiểm soát viên", "Auditor")),
        "cooperative" => Some(("Hợp tác xã", "Cooperative")),
        // application states
        "draft" => Some(("Nháp", "Draft")),
        "submitted" => Some(("Đã nộp", "Submitted")),
        "in_appraisal" => Some(("Đang thẩm định", "In appraisal")),
        "appraised" => Some(("Đã thẩm định", "Appraised")),
        "awaiting_council" => Some(("Chờ Hội đồng", "Awaiting the council")),
        "rejected" => Some(("Từ chối", "Rejected")),
        "withdrawn" => Some(("Đã rút", "Withdrawn")),
        // loan states (approved is shared with applications)
        "approved" => Some(("Đã phê duyệt", "Approved")),
        "contract_signed" => Some(("Đã ký hợp đồng", "Contract signed")),
        "active" => Some(("Đang vay", "Active")),
        "closed" => Some(("Đã tất toán", "Closed")),
        // installment states
        "paid" => Some(("Đã trả", "Paid")),
        "partly_paid" => Some(("Trả một phần", "Partly paid")),
        "due" => Some(("Đến hạn", "Due")),
        "overdue" => Some(("Quá hạn", "Overdue")),
        "future" => Some(("Chưa đến hạn", "Not yet due")),
        "restructured" => Some(("Đã cơ cấu", "Restructured")),
        // transaction kinds
        "disbursement" => Some(("Giải ngân", "Disbursement")),
        "repayment" => Some(("Thu nợ", "Repayment")),
        "restructure" => Some(("Cơ cấu lại", "Restructuring")),
        "write_off" => Some(("Xóa nợ", "Write-off")),
        "written_off" => Some(("Đã xóa nợ", "Written off")),
        "reversal" => Some(("Hủy giao dịch", "Reversal")),
        "ordinary" => Some(("Thông thường", "Ordinary")),
        "prepayment" => Some(("Trả trước hạn", "Prepayment")),
        // methods
        "equal_principal" => Some(("Gốc đều", "Equal principal")),
        "annuity" => Some(("Gốc và lãi đều", "Annuity")),
        "bullet" => Some(("Trả gốc cuối kỳ", "Bullet")),
        // COB
        "completed" | "finished" => Some(("Hoàn tất", "Finished")),
        "running" => Some(("Đang chạy", "Running")),
        "failed" => Some(("Thất bại", "Failed")),
        _ => None,
    };
    match pair {
        Some((vi, en)) => Localized::new(vi, en).get(lang).to_string(),
        None => code.to_string(),
    }
}

/// The name of debt group `group` (Decree 45/2021 and Circular 11/2021's five groups).
pub fn debt_group(group: i64, lang: Lang) -> String {
    let (vi, en) = match group {
        1 => ("Nhóm 1 – Nợ đủ tiêu chuẩn", "Group 1 – standard"),
        2 => ("Nhóm 2 – Nợ cần chú ý", "Group 2 – special mention"),
        3 => ("Nhóm 3 – Nợ dưới tiêu chuẩn", "Group 3 – substandard"),
        4 => ("Nhóm 4 – Nợ nghi ngờ", "Group 4 – doubtful"),
        _ => ("Nhóm 5 – Nợ có khả năng mất vốn", "Group 5 – loss"),
    };
    Localized::new(vi, en).get(lang).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_has_its_own_strings() {
        assert_eq!(text(Lang::Vi).login, "Đăng nhập");
        assert_eq!(text(Lang::En).login, "Log in");
        assert_eq!(text(Lang::Vi).lang_code, "vi");
        assert_eq!(text(Lang::En).other_lang_code, "vi");
    }

    #[test]
    fn codes_are_named_and_unknown_codes_shown_as_they_are() {
        assert_eq!(label("overdue", Lang::Vi), "Quá hạn");
        assert_eq!(label("overdue", Lang::En), "Overdue");
        assert_eq!(label("something_new", Lang::Vi), "something_new");
        assert_eq!(debt_group(3, Lang::En), "Group 3 – substandard");
    }
}
