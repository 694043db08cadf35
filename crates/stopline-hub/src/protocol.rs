//! The routes desktops use (docs/hub-protocol.md): `POST /v1/push`, `POST /v1/pull` and
//! `GET /v1/stream`, each authenticated by a person's token (`stopline hub token create`), not
//! the senders' webhook token. The same contract as the senders' routes: the `Host`
//! allow-list, failures counted and slowed per address, refusals as `{"error", "path"}` naming
//! the field, and nothing changed by a refused request.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use stopline_core::ids::PersonId;
use stopline_core::mutation::{Change, parse_push};
use stopline_http::{Answer, Refusal};
use tokio::sync::broadcast::error::RecvError;

use crate::error::HubError;
use crate::pull::Cookie;
use crate::state::HubState;
use crate::stream::pull_event;

/// How often an idle stream says it is alive, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The person whose token the request carries: 401 without a live one (counted against the
/// address), 403 when the config no longer names them.
async fn person(
    state: &HubState,
    headers: &HeaderMap,
    peer: std::net::IpAddr,
) -> Result<PersonId, Refusal> {
    let gate = state.gate();
    gate.check_host(headers)?;
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| stopline_http::credentials(v, "Bearer"));
    let Some(token) = presented else {
        let refusal = Refusal::new(
            StatusCode::UNAUTHORIZED,
            "a person's token is required: Authorization: Bearer <token from `stopline hub token create`>",
            "headers.authorization",
        );
        return Err(gate.failed(peer, "no person token", refusal).await);
    };
    let found = state
        .database
        .person_of_token(token)
        .await
        .map_err(unavailable)?;
    let Some(person) = found else {
        let refusal = Refusal::new(
            StatusCode::UNAUTHORIZED,
            "unknown or revoked person token",
            "headers.authorization",
        );
        return Err(gate
            .failed(peer, "unknown or revoked person token", refusal)
            .await);
    };
    if let Some(config) = state.config.as_deref()
        && config.person(&person).is_none()
    {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            format!("{person} is no longer a person of the organisation's config"),
            "headers.authorization",
        ));
    }
    Ok(person)
}

/// The database failing: 503, so the desktop tries again (its queue keeps the mutations).
pub(crate) fn unavailable(error: HubError) -> Refusal {
    tracing::error!(%error, "cannot use the hub's database");
    Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("the hub cannot use its database now, retry: {error}"),
        ".",
    )
}

fn refusal(error: HubError) -> Refusal {
    match error {
        HubError::DesktopOfAnother { .. } => {
            Refusal::new(StatusCode::FORBIDDEN, error.to_string(), "desktop_id")
        }
        other => unavailable(other),
    }
}

/// `POST /v1/push`: applies a desktop's mutations; answers their outcomes after commit.
pub(crate) async fn push(State(state): State<Arc<HubState>>, request: Request) -> Response {
    answer(push_answer(&state, request).await)
}

async fn push_answer(state: &HubState, request: Request) -> Answer {
    let peer = stopline_http::peer_of(&request);
    let (parts, body) = request.into_parts();
    let person = person(state, &parts.headers, peer).await?;
    stopline_http::check_json(&parts.headers)?;
    let body = state.gate().read_body(body).await?;
    let push = parse_push(&body).map_err(Refusal::payload)?;
    if let Some(claimed) = &push.person
        && claimed != &person
    {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            format!(
                "this token acts as {person}, not {claimed}: a desktop acts only as its own person"
            ),
            "person",
        ));
    }
    let now = state.clock.now();
    let pushed = state
        .database
        .push(state.config.as_deref(), &person, &push, now)
        .await
        .map_err(refusal)?;
    // An incident opened by hand (or by an alert routed by hand) is paged at once, as one an
    // alert opened.
    let opened_by_hand = push.mutations.iter().any(|m| {
        matches!(
            m.change,
            Change::OpenIncident { .. } | Change::AssignAlert { .. }
        ) && pushed
            .outcomes
            .iter()
            .any(|o| o.id == m.id && o.outcome == "applied")
    });
    if opened_by_hand {
        state.escalate_now.notify_one();
    }
    Ok(axum::Json(pushed).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PullBody {
    desktop_id: String,
    #[serde(default)]
    cookie: Option<String>,
}

/// `POST /v1/pull` with `{desktop_id, cookie}`: every change after the cookie.
pub(crate) async fn pull(State(state): State<Arc<HubState>>, request: Request) -> Response {
    answer(pull_answer(&state, request).await)
}

async fn pull_answer(state: &HubState, request: Request) -> Answer {
    let peer = stopline_http::peer_of(&request);
    let (parts, body) = request.into_parts();
    let person = person(state, &parts.headers, peer).await?;
    stopline_http::check_json(&parts.headers)?;
    let body = state.gate().read_body(body).await?;
    let asked: PullBody = serde_json::from_slice(&body)
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("not a pull: {e}"), "."))?;
    if asked.desktop_id.is_empty() || asked.desktop_id.len() > stopline_core::mutation::MAX_ID_CHARS
    {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "a desktop id is 1 to 64 characters",
            "desktop_id",
        ));
    }
    let cookie = match asked.cookie.as_deref() {
        None | Some("") => None,
        Some(text) => Some(Cookie::parse(text).ok_or_else(|| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "not a cookie this hub gave: send the cookie of the last pull as it was, or none for everything",
                "cookie",
            )
        })?),
    };
    let _turn =
        state.pulls.acquire().await.map_err(|_| {
            Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "the hub is stopping", ".")
        })?;
    let pulled = state
        .database
        .pull(
            &person,
            &asked.desktop_id,
            cookie.as_ref(),
            state.clock.now(),
        )
        .await
        .map_err(refusal)?;
    Ok(axum::Json(pulled).into_response())
}

/// `GET /v1/stream`: server-sent events, `pull` when the organisation changes and `page` for
/// each page addressed to the token's person. The first event is a `pull`.
pub(crate) async fn stream(State(state): State<Arc<HubState>>, request: Request) -> Response {
    let peer = stopline_http::peer_of(&request);
    match person(&state, request.headers(), peer).await {
        Ok(person) => Sse::new(events(state, person))
            .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
            .into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

fn events(state: Arc<HubState>, person: PersonId) -> impl Stream<Item = Result<Event, Infallible>> {
    let versions = state.watcher.version.subscribe();
    let pages = state.watcher.pages.subscribe();
    let closing = state.closing.subscribe();
    let first = true;
    futures_util::stream::unfold(
        (versions, pages, closing, person, first),
        |(mut versions, mut pages, mut closing, person, first)| async move {
            if first {
                let (name, data) = pull_event(*versions.borrow_and_update());
                let event = Event::default().event(name).data(data.to_string());
                return Some((Ok(event), (versions, pages, closing, person, false)));
            }
            loop {
                let (name, data) = tokio::select! {
                    changed = versions.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                        pull_event(*versions.borrow_and_update())
                    }
                    page = pages.recv() => match page {
                        Ok(page) if page.person == person.as_str() => ("page", page.page),
                        Ok(_) => continue,
                        // Fell behind: a pull carries every page it missed.
                        Err(RecvError::Lagged(_)) => pull_event(*versions.borrow()),
                        Err(RecvError::Closed) => return None,
                    },
                    _ = closing.changed() => return None,
                };
                let event = Event::default().event(name).data(data.to_string());
                return Some((Ok(event), (versions, pages, closing, person, false)));
            }
        },
    )
}

fn answer(result: Answer) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// The token's person, who must be an admin (`admin = true` in the config) to manage tokens.
async fn admin(
    state: &HubState,
    headers: &HeaderMap,
    peer: std::net::IpAddr,
) -> Result<PersonId, Refusal> {
    let person = person(state, headers, peer).await?;
    let is_admin = state
        .config
        .as_deref()
        .and_then(|c| c.person(&person))
        .is_some_and(|p| p.admin);
    if !is_admin {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            format!(
                "{person} is not an admin: token management needs `admin = true` on the person in the organisation's config"
            ),
            "headers.authorization",
        ));
    }
    Ok(person)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTokenBody {
    person: String,
}

/// `POST /v1/tokens` with `{person}`, by an admin: a token for a person of the config, shown
/// this once.
pub(crate) async fn create_token(State(state): State<Arc<HubState>>, request: Request) -> Response {
    answer(create_token_answer(&state, request).await)
}

async fn create_token_answer(state: &HubState, request: Request) -> Answer {
    let peer = stopline_http::peer_of(&request);
    let (parts, body) = request.into_parts();
    let admin = admin(state, &parts.headers, peer).await?;
    stopline_http::check_json(&parts.headers)?;
    let body = state.gate().read_body(body).await?;
    let asked: NewTokenBody = serde_json::from_slice(&body).map_err(|e| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("not a token request: {e}"),
            ".",
        )
    })?;
    let person = PersonId::new(asked.person.as_str())
        .ok()
        .filter(|p| {
            state
                .config
                .as_deref()
                .is_some_and(|c| c.person(p).is_some())
        })
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "{:?} is not a person of the organisation's config",
                    stopline_core::text::shorten(&asked.person, 64)
                ),
                "person",
            )
        })?;
    let made = state
        .database
        .create_token(&person, Some(&admin), state.clock.now())
        .await
        .map_err(unavailable)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(serde_json::json!({
            "id": made.id, "person": person.as_str(), "token": made.token,
        })),
    )
        .into_response())
}

/// `GET /v1/tokens`, by an admin: every token made (never the tokens themselves).
pub(crate) async fn list_tokens(State(state): State<Arc<HubState>>, request: Request) -> Response {
    answer(list_tokens_answer(&state, request).await)
}

async fn list_tokens_answer(state: &HubState, request: Request) -> Answer {
    let peer = stopline_http::peer_of(&request);
    admin(state, request.headers(), peer).await?;
    let tokens = state.database.tokens().await.map_err(unavailable)?;
    let listed: Vec<_> = tokens
        .iter()
        .map(|t| {
            serde_json::json!({
                "id": t.id, "person": t.person.as_str(),
                "created_at": t.created_at.to_string(),
                "revoked_at": t.revoked_at.map(|at| at.to_string()),
            })
        })
        .collect();
    Ok(axum::Json(listed).into_response())
}

/// `DELETE /v1/tokens/{id}`, by an admin: the token stops working at once.
pub(crate) async fn revoke_token(
    State(state): State<Arc<HubState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    request: Request,
) -> Response {
    answer(revoke_token_answer(&state, &id, request).await)
}

async fn revoke_token_answer(state: &HubState, id: &str, request: Request) -> Answer {
    let peer = stopline_http::peer_of(&request);
    let admin = admin(state, request.headers(), peer).await?;
    let id: i64 = id.parse().map_err(|_| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "a token id is a number (see GET /v1/tokens)",
            "id",
        )
    })?;
    let revoked = state
        .database
        .revoke_token(id, Some(&admin), state.clock.now())
        .await
        .map_err(unavailable)?;
    if !revoked {
        return Err(Refusal::new(
            StatusCode::NOT_FOUND,
            format!("no token {id} to revoke (see GET /v1/tokens)"),
            "id",
        ));
    }
    Ok(axum::Json(serde_json::json!({ "revoked": id })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OnCallQuery {
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    at: Option<String>,
}

/// `GET /v1/oncall[?team=ID][&at=RFC3339]`: who holds each layer of each rota (covering the
/// team) now and next, the config's rotas with the overrides pushed to the hub.
pub(crate) async fn on_call(State(state): State<Arc<HubState>>, request: Request) -> Response {
    answer(on_call_answer(&state, request).await)
}

async fn on_call_answer(state: &HubState, request: Request) -> Answer {
    let peer = stopline_http::peer_of(&request);
    person(state, request.headers(), peer).await?;
    let query: OnCallQuery = query_of(request.uri().query().unwrap_or(""))?;
    let Some(config) = state.config.as_deref() else {
        return Err(Refusal::new(
            StatusCode::NOT_FOUND,
            "the hub runs without a config: it has no rotas",
            ".",
        ));
    };
    let team = match query.team.as_deref() {
        None => None,
        Some(id) => Some(
            stopline_core::ids::TeamId::new(id)
                .ok()
                .filter(|t| config.team(t).is_some())
                .ok_or_else(|| {
                    Refusal::new(
                        StatusCode::BAD_REQUEST,
                        format!("unknown team {:?}", stopline_core::text::shorten(id, 64)),
                        "team",
                    )
                })?,
        ),
    };
    let at = match query.at.as_deref() {
        None => state.clock.now(),
        Some(text) => text.parse::<jiff::Timestamp>().map_err(|_| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "not a time: give one with an offset, such as 2026-12-24T17:00:00Z",
                "at",
            )
        })?,
    };
    let merged = state
        .database
        .rotas_at(config, at)
        .await
        .map_err(unavailable)?;
    Ok(axum::Json(crate::oncall::on_call_json(&merged, team.as_ref(), at)).into_response())
}

/// `GET /v1/whoami`: the token's person, so a desktop joining can say whom it signs in as.
pub(crate) async fn whoami(State(state): State<Arc<HubState>>, request: Request) -> Response {
    answer(whoami_answer(&state, request).await)
}

async fn whoami_answer(state: &HubState, request: Request) -> Answer {
    let peer = stopline_http::peer_of(&request);
    let person = person(state, request.headers(), peer).await?;
    let name = state
        .config
        .as_deref()
        .and_then(|c| c.person(&person))
        .map(|p| p.name.clone());
    Ok(axum::Json(serde_json::json!({
        "person": person.as_str(),
        "name": name,
        "schema_version": crate::SCHEMA_VERSION,
    }))
    .into_response())
}

/// A query string read into `T`, a refusal naming the parameter when it does not fit.
fn query_of<T: serde::de::DeserializeOwned>(query: &str) -> Result<T, Refusal> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| Refusal::new(StatusCode::BAD_REQUEST, "not a query string", "query"))?,
    )
    .map(|q| q.0)
    .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e.body_text(), "query"))
}
