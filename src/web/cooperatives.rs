//! `/cooperatives`: the list with search by name or registration code and by district; register
//! (`/cooperatives/new`), edit (`/cooperatives/{id}/edit`) and the detail page (`/cooperatives/{id}`)
//! with its exposure against the Decree 45 limits, its loans and its applications.
//!
//! A plain GET form, so it works without JavaScript; with htmx, typing in the search box asks for
//! the same URL with `HX-Request` and only the results fragment is rendered and swapped in.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
};
use coopfund_domain::{
    ids::{CooperativeId, UserId},
    CooperativeKind,
};
use serde::Deserialize;

use super::form::{link, Done, FormBody, PageQuery};
use super::{
    applications::{parse_count, OfficerText},
    dashboard::{LoanRow, LIST_LIMIT},
    form::Errors,
    is_htmx, render, PathId, Shell, WebUser,
};
use crate::{
    app::{
        applications::{self, Application, ApplicationFilter},
        cooperatives::{
            self, Contact, Cooperative, CooperativeChange, CooperativeFilter, Location,
            NewCooperative,
        },
        lending_limits::{self, Check, CooperativeExposure},
        loans::{self, LoanFilter},
        page::PageRequest,
    },
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Lang},
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
    pub o: &'static OfficerText,
    /// Whether the user may register a cooperative (the link; the form checks again).
    pub can_register: bool,
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
    PageQuery(search): PageQuery<Search>,
) -> Response {
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
        let (q, district) = (search.q.as_str(), search.district.as_str());
        link(
            "/cooperatives",
            &[("q", q), ("district", district), ("cursor", &cursor)],
        )
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
        o: OfficerText::of(user.lang),
        can_register: matches!(user.caller.role(), Role::Officer | Role::Admin),
        shell,
        districts: state.settings.fund.districts.clone(),
        search,
        items: page.items,
        next_href,
    })
}

// ----- register, edit, detail -----

/// A [`Location`] as typed (the form's `district`, `commune` and `address` inputs).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct LocationForm {
    pub district: String,
    pub commune: String,
    pub address: String,
}

impl LocationForm {
    fn of(l: &Location) -> LocationForm {
        LocationForm {
            district: l.district.clone(),
            commune: l.commune.clone(),
            address: l.address.clone(),
        }
    }

    /// The location as typed, trimmed (the use case validates it).
    fn command(&self) -> Location {
        Location {
            district: self.district.trim().to_string(),
            commune: self.commune.trim().to_string(),
            address: self.address.trim().to_string(),
        }
    }
}

/// A [`Contact`] as typed (the form's `legal_representative`, `phone`, `email` and `language`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ContactForm {
    pub legal_representative: String,
    pub phone: String,
    pub email: String,
    /// `vi` or `en`, from a select.
    pub language: String,
}

impl ContactForm {
    fn of(c: &Contact) -> ContactForm {
        ContactForm {
            legal_representative: c.legal_representative.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            language: c.language.code().to_string(),
        }
    }

    /// The contact as typed, trimmed (the use case validates it).
    fn command(&self) -> Contact {
        Contact {
            legal_representative: self.legal_representative.trim().to_string(),
            phone: self.phone.trim().to_string(),
            email: self.email.trim().to_string(),
            language: Lang::parse(&self.language).unwrap_or_default(),
        }
    }
}

/// A cooperative as typed in the register and edit forms (kept as typed when refused); its
/// location and contact inputs are read into their groups.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct CooperativeForm {
    pub registration_code: String,
    pub name: String,
    pub kind: String,
    #[serde(flatten)]
    pub location: LocationForm,
    #[serde(flatten)]
    pub contact: ContactForm,
    pub member_count: String,
    pub charter_capital_vnd: String,
    pub founded_on: String,
    pub related_group: String,
    /// The version the edit form was rendered from.
    pub version: String,
}

impl CooperativeForm {
    fn of(c: &Cooperative, lang: Lang) -> CooperativeForm {
        CooperativeForm {
            registration_code: c.registration_code.clone(),
            name: c.name.clone(),
            kind: c.kind.as_str().to_string(),
            location: LocationForm::of(&c.location),
            contact: ContactForm::of(&c.contact),
            member_count: c.member_count.to_string(),
            charter_capital_vnd: super::format::grouped(c.charter_capital_vnd, lang),
            founded_on: c.founded_on.format("%Y-%m-%d").to_string(),
            related_group: c.related_group.clone().unwrap_or_default(),
            version: c.version.to_string(),
        }
    }

    /// The registration, or the fields that cannot be read placed in `errors`.
    fn command(
        &self,
        lang: Lang,
        officer_id: Option<UserId>,
        errors: &mut Errors,
    ) -> Option<NewCooperative> {
        let o = OfficerText::of(lang);
        let mut failed = false;
        let mut place = |err: AppError, errors: &mut Errors| {
            failed = true;
            errors.place_by(&err, lang, |f| form_label(o, f));
        };
        let member_count = parse_count("member_count", &self.member_count, lang)
            .map_err(|e| place(e, errors))
            .ok();
        let charter_capital_vnd =
            super::format::parse_vnd("charter_capital_vnd", &self.charter_capital_vnd, lang)
                .map_err(|e| place(e, errors))
                .ok();
        let founded_on = super::format::parse_date("founded_on", &self.founded_on)
            .map_err(|e| place(e, errors))
            .ok();
        if failed {
            return None;
        }
        Some(NewCooperative {
            registration_code: self.registration_code.trim().to_string(),
            name: self.name.trim().to_string(),
            kind: self.kind.trim().to_string(),
            location: self.location.command(),
            contact: self.contact.command(),
            member_count: member_count?,
            charter_capital_vnd: charter_capital_vnd?,
            founded_on: founded_on?,
            related_group: Some(self.related_group.trim().to_string()).filter(|g| !g.is_empty()),
            officer_id,
        })
    }
}

/// The label of `field` on the cooperative form (`None`: not on the form; its message goes above).
fn form_label(o: &OfficerText, field: &str) -> Option<String> {
    let label = match field {
        "registration_code" => o.registration_code,
        "name" => o.name,
        "kind" => o.kind,
        "district" => o.district,
        "commune" => o.commune,
        "address" => o.address,
        "legal_representative" => o.legal_representative,
        "phone" => o.phone,
        "email" => o.email,
        "language" => o.language,
        "member_count" => o.member_count,
        "charter_capital_vnd" => o.coop_charter_vnd,
        "founded_on" => o.founded_on,
        "related_group" => o.related_group,
        _ => return None,
    };
    Some(label.to_string())
}

/// `/cooperatives/new` and `/cooperatives/{id}/edit`.
#[derive(Template)]
#[template(path = "cooperative_form.html")]
pub struct FormPage {
    pub shell: Shell,
    pub o: &'static OfficerText,
    pub form: CooperativeForm,
    /// The cooperative being edited (`None`: a registration).
    pub editing: Option<i64>,
    pub districts: Vec<String>,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub errors: Errors,
}

impl FormPage {
    /// The message for `field`, if refused.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.error_for(field)
    }

    /// The form's text inputs: field, label, value as typed, and input kind (`numeric` asks
    /// for the number keyboard; anything else is the input's type).
    pub fn text_fields(&self) -> Vec<(&'static str, &'static str, String, &'static str)> {
        let (o, f) = (self.o, &self.form);
        vec![
            (
                "registration_code",
                o.registration_code,
                f.registration_code.clone(),
                "text",
            ),
            ("name", o.name, f.name.clone(), "text"),
            ("commune", o.commune, f.location.commune.clone(), "text"),
            ("address", o.address, f.location.address.clone(), "text"),
            (
                "legal_representative",
                o.legal_representative,
                f.contact.legal_representative.clone(),
                "text",
            ),
            ("phone", o.phone, f.contact.phone.clone(), "tel"),
            ("email", o.email, f.contact.email.clone(), "email"),
            (
                "member_count",
                o.member_count,
                f.member_count.clone(),
                "numeric",
            ),
            (
                "charter_capital_vnd",
                o.coop_charter_vnd,
                f.charter_capital_vnd.clone(),
                "numeric",
            ),
            ("founded_on", o.founded_on, f.founded_on.clone(), "date"),
        ]
    }

    /// Where the form posts.
    pub fn action(&self) -> String {
        match self.editing {
            Some(id) => format!("/cooperatives/{id}/edit"),
            None => "/cooperatives/new".into(),
        }
    }
}

/// Who registers and edits cooperatives (the use cases check it again).
const EDITORS: [Role; 2] = [Role::Officer, Role::Admin];

async fn form_page(
    state: &AppState,
    user: &WebUser,
    form: CooperativeForm,
    editing: Option<i64>,
    errors: Errors,
) -> AppResult<FormPage> {
    user.caller.require(&EDITORS)?;
    let o = OfficerText::of(user.lang);
    let title = if editing.is_some() {
        o.edit_cooperative
    } else {
        o.register_cooperative
    };
    Ok(FormPage {
        shell: user.shell(state, title).await,
        o,
        form,
        editing,
        districts: state.settings.fund.districts.clone(),
        kinds: CooperativeKind::ALL
            .map(|kind| (kind.as_str(), kind_name(o, kind)))
            .to_vec(),
        errors,
    })
}

/// `GET /cooperatives/new`.
pub async fn new_form(State(state): State<AppState>, user: WebUser) -> Response {
    let form = CooperativeForm {
        kind: "cooperative".into(),
        contact: ContactForm {
            language: "vi".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    user.page(
        &state,
        form_page(&state, &user, form, None, Errors::default()),
    )
    .await
}

/// The form again with the refusal next to its field and what was typed.
async fn refused_form(
    state: &AppState,
    user: &WebUser,
    form: CooperativeForm,
    editing: Option<i64>,
    err: Option<AppError>,
    mut errors: Errors,
) -> Response {
    let kind = err.as_ref().map_or(ErrorKind::BadRequest, |e| e.kind);
    if matches!(
        kind,
        ErrorKind::NotFound | ErrorKind::Forbidden | ErrorKind::Internal
    ) {
        if let Some(err) = err {
            return user.fail(state, err).await;
        }
    }
    if let Some(err) = err {
        let o = OfficerText::of(user.lang);
        errors.place_by(&err, user.lang, |f| form_label(o, f));
    }
    user.page_with(
        state,
        crate::http::error::status_of(kind),
        form_page(state, user, form, editing, errors),
    )
    .await
}

/// `POST /cooperatives/new`: registers, then shows the cooperative (the officer who registers
/// follows it).
pub async fn create(
    State(state): State<AppState>,
    user: WebUser,
    FormBody(form): FormBody<CooperativeForm>,
) -> Response {
    let mut errors = Errors::default();
    let officer = (user.caller.role() == Role::Officer)
        .then(|| user.caller.user_id().map(UserId::new))
        .flatten();
    let Some(command) = form.command(user.lang, officer, &mut errors) else {
        return refused_form(&state, &user, form, None, None, errors).await;
    };
    match cooperatives::create(&state.ctx, &user.caller, command).await {
        Ok(created) => {
            Redirect::to(&format!("/cooperatives/{}?done=saved", created.id)).into_response()
        }
        Err(err) => refused_form(&state, &user, form, None, Some(err), errors).await,
    }
}

fn cooperative_id(text: &str) -> AppResult<CooperativeId> {
    super::path_id(text, "hợp tác xã", "Cooperative").map(CooperativeId::new)
}

/// `GET /cooperatives/{id}/edit`.
pub async fn edit_form(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
) -> Response {
    user.page(&state, async {
        user.caller.require(&EDITORS)?;
        let id = cooperative_id(&id)?;
        let current = cooperatives::get(&state.ctx, &user.caller, id).await?;
        let form = CooperativeForm::of(&current, user.lang);
        form_page(&state, &user, form, Some(id.get()), Errors::default()).await
    })
    .await
}

/// `POST /cooperatives/{id}/edit`: every field, against the version the form was rendered from
/// (someone else's save in between is a 409 shown above the form).
pub async fn update(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<CooperativeId>,
    FormBody(form): FormBody<CooperativeForm>,
) -> Response {
    let mut errors = Errors::default();
    let Some(command) = form.command(user.lang, None, &mut errors) else {
        return refused_form(&state, &user, form, Some(id.get()), None, errors).await;
    };
    let change = CooperativeChange {
        version: form.version.trim().parse().unwrap_or(0),
        registration_code: Some(command.registration_code),
        name: Some(command.name),
        kind: Some(command.kind),
        location: command.location.into(),
        contact: command.contact.into(),
        member_count: Some(command.member_count),
        charter_capital_vnd: Some(command.charter_capital_vnd),
        founded_on: Some(command.founded_on),
        related_group: command.related_group,
        officer_id: None,
    };
    match cooperatives::update(&state.ctx, &user.caller, id, change).await {
        Ok(_) => Redirect::to(&format!("/cooperatives/{id}?done=saved")).into_response(),
        Err(err) => refused_form(&state, &user, form, Some(id.get()), Some(err), errors).await,
    }
}

/// `/cooperatives/{id}`.
#[derive(Template)]
#[template(path = "cooperative_show.html")]
pub struct ShowPage {
    pub shell: Shell,
    pub o: &'static OfficerText,
    pub c: Cooperative,
    pub exposure: CooperativeExposure,
    pub rows: Vec<LoanRow>,
    pub applications: Vec<Application>,
    pub can_edit: bool,
    pub can_apply: bool,
    pub saved: bool,
}

/// A kind's name in the officer's language.
fn kind_name(o: &'static OfficerText, kind: CooperativeKind) -> &'static str {
    match kind {
        CooperativeKind::Cooperative => o.kind_coop,
        CooperativeKind::UnionOfCooperatives => o.kind_union,
        CooperativeKind::CooperativeMember => o.kind_coop_member,
    }
}

impl ShowPage {
    /// The kind's name.
    pub fn kind_name(&self) -> &'static str {
        kind_name(self.o, self.c.kind)
    }

    /// The rule's name for people.
    pub fn rule_name(&self, check: &Check) -> &'static str {
        match check.rule {
            coopfund_domain::limits::Rule::RelatedGroup => self.o.rule_group,
            _ => self.o.rule_single,
        }
    }
}

/// `GET /cooperatives/{id}`: its data, its exposure against 15% / 25% (the approval's own
/// figures), its loans and its applications. Staff; a cooperative user gets the 403 page.
pub async fn show(
    State(state): State<AppState>,
    user: WebUser,
    PathId(id): PathId<CooperativeId>,
    PageQuery(Done { done }): PageQuery<Done>,
) -> Response {
    user.page(&state, async {
        // The exposure is the staff's (403 for a cooperative user) — asked first.
        let c = cooperatives::get(&state.ctx, &user.caller, id).await?;
        let exposure = lending_limits::for_cooperative(&state.ctx, &user.caller, id).await?;
        let loans = loans::list(
            &state.ctx,
            &user.caller,
            LoanFilter {
                cooperative_id: Some(id),
                limit: Some(LIST_LIMIT),
                ..Default::default()
            },
        )
        .await?;
        let names = std::collections::HashMap::from([(id.get(), c.name.clone())]);
        let rows = loans.items.iter().map(|l| LoanRow::of(l, &names)).collect();
        let applications = applications::list(
            &state.ctx,
            &user.caller,
            ApplicationFilter {
                cooperative_id: Some(id),
                limit: Some(LIST_LIMIT),
                ..Default::default()
            },
        )
        .await?
        .items;
        let o = OfficerText::of(user.lang);
        let role = user.caller.role();
        Ok::<_, AppError>(ShowPage {
            shell: user.shell(&state, &c.name).await,
            o,
            exposure,
            rows,
            applications,
            can_edit: EDITORS.contains(&role),
            can_apply: role == Role::Officer,
            saved: done == "saved",
            c,
        })
    })
    .await
}
