//! `/cooperatives`: the list with search by name or registration code and by district.
//!
//! A plain GET form, so it works without JavaScript; with htmx, typing in the search box asks for
//! the same URL with `HX-Request` and only the results fragment is rendered and swapped in.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    http::HeaderMap,
    response::Response,
};
use serde::Deserialize;

use super::{is_htmx, render, Shell, WebUser};
use crate::{
    app::{
        cooperatives::{self, Cooperative, CooperativeFilter},
        page::PageRequest,
    },
    state::AppState,
};

/// The search as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Search {
    pub q: String,
    pub district: String,
    pub cursor: String,
}

/// The whole page.
#[derive(Template)]
#[template(path = "cooperatives.html")]
pub struct CooperativesPage {
    pub shell: Shell,
    pub search: Search,
    pub districts: Vec<String>,
    pub items: Vec<Cooperative>,
    pub next_href: Option<String>,
}

/// Only the results (for htmx).
#[derive(Template)]
#[template(path = "cooperative_results.html")]
pub struct CooperativeResults {
    pub shell: Shell,
    pub items: Vec<Cooperative>,
    pub next_href: Option<String>,
}

/// `GET /cooperatives?q=&district=&cursor=`.
pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let search: Search =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let page = match PageRequest::parse(Some(50), Some(search.cursor.as_str())) {
        Ok(page) => {
            let filter = CooperativeFilter {
                q: Some(search.q.clone()).filter(|q| !q.trim().is_empty()),
                district: Some(search.district.clone()).filter(|d| !d.is_empty()),
                page,
            };
            cooperatives::list(&state.ctx, &user.caller, filter).await
        }
        Err(err) => Err(err),
    };
    let page = match page {
        Ok(page) => page,
        Err(err) => return user.fail(&state, err).await,
    };
    let next_href = page.next_cursor.map(|cursor| {
        let q = serde_urlencoded::to_string([
            ("q", search.q.as_str()),
            ("district", search.district.as_str()),
            ("cursor", cursor.as_str()),
        ])
        .unwrap_or_default();
        format!("/cooperatives?{q}")
    });
    let t = super::text::text(user.lang);
    let shell = user.shell(&state, t.nav_cooperatives).await;
    if is_htmx(&headers) {
        return render(&CooperativeResults {
            shell,
            items: page.items,
            next_href,
        });
    }
    render(&CooperativesPage {
        shell,
        districts: state.settings.fund.districts.clone(),
        search,
        items: page.items,
        next_href,
    })
}
