//! Small bar charts drawn on the server as SVG, inlined in the page.
//!
//! Hand-written rather than drawn with the plotters crate: a labelled horizontal bar chart is a
//! few rectangles and texts, and writing them here
//! - adds no dependency (plotters and its SVG backend were not in the build; every helper's branch
//!   shares one `Cargo.lock`, and a 2-core build machine pays for each new crate);
//! - keeps every label in the page's own words and number format (`1.234.567 ₫`), which plotters
//!   would need custom formatters for anyway;
//! - makes the output exactly what the Content-Security-Policy allows: presentation attributes
//!   (`fill=`, `font-size=`), never a `style=` attribute or element, no script;
//! - makes it accessible: `role="img"` named by its `<title>` and described by a `<desc>` that
//!   says every number the bars show (and the page keeps the numbers in a table as well).
//!
//! The drawing is sized in a 360-unit-wide `viewBox` (a phone's width), so it scales down without
//! a horizontal scroll and its text stays readable; the stylesheet caps its width on a desk.

use std::fmt::Write;

/// One bar: its label, the value written beside it, and its length.
pub struct Bar {
    /// What the bar is (`Nhóm 1 – Nợ đủ tiêu chuẩn`).
    pub label: String,
    /// The value as the page writes it (`1.234.567 ₫`).
    pub value_text: String,
    /// The value the length is drawn from (đồng); negative values draw as zero.
    pub value: i64,
    /// The bar's colour, a `#rrggbb` (3:1 against white at least: WCAG 1.4.11).
    pub fill: &'static str,
}

/// The drawing's width in `viewBox` units.
const WIDTH: i64 = 360;
/// The height of one row (the label, the value, then the bar: each on its own line, so a long
/// label never runs into the value on a phone).
const ROW: i64 = 68;
const BAR_HEIGHT: i64 = 16;
const TEXT: &str = "#1b1f24";
const TRACK: &str = "#eef1f4";

/// Escapes text for an SVG text node or attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A horizontal bar chart: `id` names it on the page (its title and description are
/// `{id}-title`, `{id}-desc`), `title` says what it shows, `desc` is read out in its place
/// (the bars' labels and values are appended to it).
pub fn bar_chart(id: &str, title: &str, desc: &str, bars: &[Bar]) -> String {
    let id = escape(id);
    let height = ROW * i64::try_from(bars.len()).unwrap_or(0) + 4;
    let max = bars.iter().map(|b| b.value.max(0)).max().unwrap_or(0);
    let spoken: Vec<String> = bars
        .iter()
        .map(|b| format!("{}: {}", b.label, b.value_text))
        .collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" \
         role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" font-family=\"system-ui, sans-serif\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(&format!("{desc} {}.", spoken.join("; "))),
    );
    for (i, bar) in bars.iter().enumerate() {
        let top = ROW * i64::try_from(i).unwrap_or(0);
        // Whole units are enough for a drawing; the exact amount is in the text beside it.
        let length = if max > 0 {
            let scaled = i128::from(bar.value.max(0)) * i128::from(WIDTH) / i128::from(max);
            // A non-zero amount stays visible as a sliver.
            i64::try_from(scaled)
                .unwrap_or(WIDTH)
                .max(i64::from(bar.value > 0) * 2)
        } else {
            0
        };
        let _ = write!(
            svg,
            "<g aria-hidden=\"true\">\
             <text x=\"0\" y=\"{ly}\" font-size=\"15\" fill=\"{TEXT}\">{label}</text>\
             <text x=\"0\" y=\"{vy}\" font-size=\"15\" font-weight=\"600\" fill=\"{TEXT}\">{value}</text>\
             <rect x=\"0\" y=\"{by}\" width=\"{WIDTH}\" height=\"{BAR_HEIGHT}\" rx=\"3\" fill=\"{TRACK}\"/>\
             <rect x=\"0\" y=\"{by}\" width=\"{length}\" height=\"{BAR_HEIGHT}\" rx=\"3\" fill=\"{fill}\"/></g>",
            ly = top + 15,
            vy = top + 35,
            by = top + 43,
            label = escape(&bar.label),
            value = escape(&bar.value_text),
            fill = escape(bar.fill),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The colour of debt group 1 to 5: green, then amber to dark red as the debt worsens.
pub fn group_colour(group: u8) -> &'static str {
    match group {
        1 => "#2e7d4f",
        2 => "#9a7200",
        3 => "#c2580a",
        4 => "#b3261e",
        _ => "#6b0f14",
    }
}

/// The colour of the `i`-th band of days past due (0 = fewest days).
pub fn band_colour(i: usize) -> &'static str {
    group_colour(u8::try_from(i + 1).unwrap_or(5).min(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars() -> Vec<Bar> {
        vec![
            Bar {
                label: "Nhóm 1 – Nợ đủ tiêu chuẩn".into(),
                value_text: "3.000.000 ₫".into(),
                value: 3_000_000,
                fill: group_colour(1),
            },
            Bar {
                label: "Nhóm <2> & co".into(),
                value_text: "1.500.000 ₫".into(),
                value: 1_500_000,
                fill: group_colour(2),
            },
            Bar {
                label: "Nhóm 3".into(),
                value_text: "0 ₫".into(),
                value: 0,
                fill: group_colour(3),
            },
        ]
    }

    #[test]
    fn bars_are_scaled_to_the_largest_and_named_for_a_screen_reader() {
        let svg = bar_chart("portfolio-chart", "Dư nợ", "Theo nhóm nợ:", &bars());
        assert!(svg.starts_with("<svg class=\"chart\" id=\"portfolio-chart\""));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("aria-labelledby=\"portfolio-chart-title portfolio-chart-desc\""));
        assert!(svg.contains("<title id=\"portfolio-chart-title\">Dư nợ</title>"));
        assert!(
            svg.contains("Nhóm 1 – Nợ đủ tiêu chuẩn: 3.000.000 ₫"),
            "{svg}"
        );
        assert!(svg.contains("width=\"360\" height=\"16\" rx=\"3\" fill=\"#2e7d4f\""));
        assert!(svg.contains("width=\"180\" height=\"16\" rx=\"3\" fill=\"#9a7200\""));
        assert!(svg.contains("width=\"0\" height=\"16\" rx=\"3\" fill=\"#c2580a\""));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn the_drawing_is_csp_safe_and_escapes_its_text() {
        let svg = bar_chart("c", "<b>", "d", &bars());
        assert!(
            !svg.contains("style"),
            "no style attribute or element: {svg}"
        );
        assert!(!svg.contains("<script"));
        assert!(svg.contains("Nhóm &lt;2&gt; &amp; co"));
        assert!(svg.contains("<title id=\"c-title\">&lt;b&gt;</title>"));
    }

    #[test]
    fn a_tiny_amount_stays_visible_and_an_empty_chart_draws_no_bar() {
        let mut tiny = bars();
        tiny[2].value = 1;
        let svg = bar_chart("c", "t", "d", &tiny);
        assert!(
            svg.contains("width=\"2\" height=\"16\" rx=\"3\" fill=\"#c2580a\""),
            "{svg}"
        );
        let none = bar_chart("c", "t", "d", &[]);
        assert!(none.contains("viewBox=\"0 0 360 4\""));
        assert!(!none.contains("<rect"));
    }
}
