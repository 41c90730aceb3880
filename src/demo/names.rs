//! The demo fund's cast: cooperatives of Thái Nguyên province with plausible names, communes and
//! representatives, and the words bulk mode combines into unique ones. Fiction: any likeness to a
//! registered cooperative is a coincidence of common place and crop names.

/// One demo cooperative: name, kind, district index into `fund.districts`, commune, legal representative.
pub struct DemoCooperative {
    pub name: &'static str,
    pub kind: &'static str,
    pub district: usize,
    pub commune: &'static str,
    pub representative: &'static str,
    /// The slug used in its registration code and email.
    pub slug: &'static str,
}

const fn coop(
    name: &'static str,
    district: usize,
    commune: &'static str,
    representative: &'static str,
    slug: &'static str,
) -> DemoCooperative {
    DemoCooperative {
        name,
        kind: "cooperative",
        district,
        commune,
        representative,
        slug,
    }
}

/// The explorable demo's cooperatives. District indexes follow the default `fund.districts`:
/// 0 TP Thái Nguyên, 1 TP Sông Công, 2 TP Phổ Yên, 3 Đại Từ, 4 Định Hóa, 5 Phú Lương, 6 Đồng Hỷ,
/// 7 Võ Nhai, 8 Phú Bình.
pub const COOPERATIVES: [DemoCooperative; 31] = [
    coop(
        "HTX Chè Tân Cương",
        0,
        "Xã Tân Cương",
        "Nguyễn Văn An",
        "tancuong",
    ),
    coop(
        "HTX Rau an toàn Hóa Thượng",
        6,
        "Xã Hóa Thượng",
        "Trần Thị Bình",
        "hoathuong",
    ),
    coop("HTX Chè La Bằng", 3, "Xã La Bằng", "Lê Văn Cường", "labang"),
    coop(
        "HTX Nông nghiệp Phú Đô",
        5,
        "Xã Phú Đô",
        "Phạm Thị Dung",
        "phudo",
    ),
    coop(
        "HTX Gà đồi Tân Thành",
        8,
        "Xã Tân Thành",
        "Hoàng Văn Đức",
        "gadoi",
    ),
    coop(
        "HTX Dịch vụ nông nghiệp Phú Đình",
        4,
        "Xã Phú Đình",
        "Vũ Thị Giang",
        "phudinh",
    ),
    coop(
        "HTX Chè Khe Cốc",
        7,
        "Xã Tràng Xá",
        "Đặng Văn Hải",
        "khecoc",
    ),
    coop(
        "HTX Chè Tức Tranh",
        5,
        "Xã Tức Tranh",
        "Bùi Thị Hạnh",
        "tuctranh",
    ),
    coop(
        "HTX Nấm sạch Đồng Hỷ",
        6,
        "Xã Nam Hòa",
        "Đỗ Văn Hùng",
        "namsach",
    ),
    coop(
        "HTX Bánh chưng Bờ Đậu",
        5,
        "Xã Cổ Lũng",
        "Ngô Thị Hương",
        "bodau",
    ),
    coop(
        "HTX Lúa nếp vải Phú Lạc",
        3,
        "Xã Phú Lạc",
        "Dương Văn Khánh",
        "phulac",
    ),
    coop(
        "HTX Dược liệu La Hiên",
        7,
        "Xã La Hiên",
        "Lý Thị Lan",
        "duoclieu",
    ),
    coop(
        "HTX Thủy sản Hồ Núi Cốc",
        3,
        "Xã Tân Thái",
        "Mai Văn Long",
        "nuicoc",
    ),
    coop(
        "HTX Chè Minh Lập",
        6,
        "Xã Minh Lập",
        "Trịnh Thị Mai",
        "minhlap",
    ),
    coop(
        "HTX Cây ăn quả Bá Xuyên",
        1,
        "Xã Bá Xuyên",
        "Đinh Văn Nam",
        "baxuyen",
    ),
    coop(
        "HTX Rau hữu cơ Tiên Phong",
        2,
        "Xã Tiên Phong",
        "Lương Thị Nga",
        "tienphong",
    ),
    coop(
        "HTX Gạo Bao Thai Định Hóa",
        4,
        "Xã Kim Phượng",
        "Tạ Văn Phúc",
        "baothai",
    ),
    coop(
        "HTX Mộc mỹ nghệ Đắc Sơn",
        2,
        "Xã Đắc Sơn",
        "Hà Thị Quyên",
        "dacson",
    ),
    coop(
        "HTX Chăn nuôi lợn sạch Úc Kỳ",
        8,
        "Xã Úc Kỳ",
        "Chu Văn Quang",
        "ucky",
    ),
    coop(
        "HTX Ổi Linh Sơn",
        0,
        "Xã Linh Sơn",
        "Kiều Thị Sen",
        "oilinhson",
    ),
    coop(
        "HTX Chè Trại Cài",
        6,
        "Xã Minh Lập",
        "Lò Văn Tâm",
        "traicai",
    ),
    coop(
        "HTX Na La Hiên",
        7,
        "Xã La Hiên",
        "Nông Thị Thảo",
        "nalahien",
    ),
    coop(
        "HTX Vận tải Sông Công",
        1,
        "Phường Lương Sơn",
        "Quách Văn Thắng",
        "vantai",
    ),
    coop(
        "HTX Mây tre đan Tân Đức",
        8,
        "Xã Tân Đức",
        "Phan Thị Thu",
        "maytre",
    ),
    coop(
        "HTX Chè Vô Tranh",
        5,
        "Xã Vô Tranh",
        "Triệu Văn Toàn",
        "votranh",
    ),
    coop(
        "HTX Nông sản sạch Hùng Sơn",
        3,
        "Thị trấn Hùng Sơn",
        "Cao Thị Uyên",
        "hungson",
    ),
    coop(
        "HTX Bò sinh sản Bảo Linh",
        4,
        "Xã Bảo Linh",
        "Ma Văn Vinh",
        "baolinh",
    ),
    coop(
        "HTX Rau an toàn Quyết Thắng",
        0,
        "Phường Quyết Thắng",
        "Lăng Thị Xuân",
        "quyetthang",
    ),
    DemoCooperative {
        name: "Liên hiệp HTX Chè Thái Nguyên",
        kind: "union_of_cooperatives",
        district: 0,
        commune: "Phường Phan Đình Phùng",
        representative: "Nguyễn Quốc Việt",
        slug: "lienhiepche",
    },
    coop(
        "HTX Sắn dây Thành Công",
        2,
        "Xã Thành Công",
        "Vi Văn Yên",
        "sanday",
    ),
    DemoCooperative {
        name: "Hộ thành viên Nguyễn Thị Hương (HTX Chè Tân Cương)",
        kind: "cooperative_member",
        district: 0,
        commune: "Xã Tân Cương",
        representative: "Nguyễn Thị Hương",
        slug: "ho-huong",
    },
];

/// What bulk mode's cooperatives make (combined with [`PLACES`] and a sequence number).
pub const TRADES: [&str; 12] = [
    "Chè",
    "Rau an toàn",
    "Gà đồi",
    "Nấm sạch",
    "Dược liệu",
    "Gạo nếp",
    "Chăn nuôi",
    "Cây ăn quả",
    "Thủy sản",
    "Mây tre đan",
    "Mộc mỹ nghệ",
    "Dịch vụ nông nghiệp",
];

/// Places bulk mode's cooperatives are named after.
pub const PLACES: [&str; 12] = [
    "Tân Cương",
    "Phúc Xuân",
    "La Bằng",
    "Hóa Thượng",
    "Phú Đô",
    "Tức Tranh",
    "Minh Lập",
    "Tràng Xá",
    "Bảo Linh",
    "Tân Thành",
    "Đắc Sơn",
    "Bá Xuyên",
];

/// Family names for bulk mode's legal representatives.
pub const FAMILY_NAMES: [&str; 10] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô",
];

/// Given names for bulk mode's legal representatives.
pub const GIVEN_NAMES: [&str; 10] = [
    "Văn An",
    "Thị Bình",
    "Văn Cường",
    "Thị Dung",
    "Văn Đức",
    "Thị Hà",
    "Văn Hùng",
    "Thị Lan",
    "Văn Minh",
    "Thị Nga",
];

/// The district for index `index`: the configured list (cycled), or the default list's names.
pub fn district(configured: &[String], index: usize) -> String {
    const DEFAULTS: [&str; 9] = [
        "Thành phố Thái Nguyên",
        "Thành phố Sông Công",
        "Thành phố Phổ Yên",
        "Huyện Đại Từ",
        "Huyện Định Hóa",
        "Huyện Phú Lương",
        "Huyện Đồng Hỷ",
        "Huyện Võ Nhai",
        "Huyện Phú Bình",
    ];
    if configured.is_empty() {
        DEFAULTS[index % DEFAULTS.len()].to_string()
    } else {
        let preferred = DEFAULTS[index % DEFAULTS.len()];
        match configured.iter().find(|d| d.as_str() == preferred) {
            Some(found) => found.clone(),
            None => configured[index % configured.len()].clone(),
        }
    }
}
