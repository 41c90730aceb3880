//! The site's static files, compiled into the binary (`include_bytes!`): our stylesheet and the
//! vendored htmx (npm package `htmx.org` 2.x, `static/vendor/htmx/` with its licence). Nothing is
//! loaded from the internet and no file is read from disk at run time.
//!
//! Pages link each file with `?v=<hash of its content>`; a request carrying the current hash is
//! cacheable for a year (`immutable`), since a changed file gets a new URL; anything else is
//! served with `no-cache` so an old URL never pins an old file.

use std::sync::LazyLock;

use axum::{
    extract::{Path, RawQuery},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 3] = [
    Asset {
        path: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/app.css"),
    },
    Asset {
        path: "vendor/htmx/htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/vendor/htmx/htmx.min.js"),
    },
    Asset {
        path: "vendor/htmx/LICENSE",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../../static/vendor/htmx/LICENSE"),
    },
];

/// The first 16 hex digits of each asset's SHA-256, computed once.
static HASHES: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| hex::encode(Sha256::digest(a.bytes))[..16].to_string())
        .collect()
});

/// The URL of asset `path` with its content hash.
pub fn url(path: &str) -> String {
    match ASSETS.iter().position(|a| a.path == path) {
        Some(i) => format!("/static/{path}?v={}", HASHES[i]),
        None => format!("/static/{path}"),
    }
}

/// `GET /static/{*path}`.
pub async fn serve(Path(path): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.path == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let asset = &ASSETS[i];
    let current = query.as_deref() == Some(format!("v={}", HASHES[i]).as_str());
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::ETAG,
                HeaderValue::from_str(&format!("\"{}\"", HASHES[i]))
                    .unwrap_or(HeaderValue::from_static("\"0\"")),
            ),
        ],
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_versioned_url_and_htmx_keeps_its_licence() {
        assert!(url("app.css").starts_with("/static/app.css?v="));
        assert_eq!(url("nope.css"), "/static/nope.css");
        let licence = ASSETS.iter().find(|a| a.path.ends_with("LICENSE")).unwrap();
        assert!(std::str::from_utf8(licence.bytes).unwrap().contains("BSD"));
        let htmx = ASSETS
            .iter()
            .find(|a| a.path.ends_with("htmx.min.js"))
            .unwrap();
        assert!(htmx.bytes.len() > 10_000);
    }

    /// Each area appends its rules to the one stylesheet; a block left open by a merge silently
    /// turns every later rule into a wide-screen or print-only rule. Every area starts at depth 0.
    #[test]
    fn every_area_of_the_stylesheet_starts_outside_any_block() {
        let css = std::str::from_utf8(include_bytes!("../../static/app.css")).unwrap();
        let mut depth = 0i32;
        for (number, line) in css.lines().enumerate() {
            if line.starts_with("/* area:") {
                assert_eq!(
                    depth,
                    0,
                    "line {}: {line} starts inside a block",
                    number + 1
                );
            }
            depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
        }
        assert_eq!(depth, 0, "the stylesheet ends inside a block");
    }
}
