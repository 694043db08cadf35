//! `GET` and `POST /v1/ack/{token}`: the acknowledge link a page carries away from the desk,
//! served by the webhook server (under `[paging] ack_url_base`, usually through a proxy).
//!
//! The token is the credential: signed for one incident, one person and one message
//! (`stopline_core::reach::link`). A `GET` shows a page with one button and changes nothing; the
//! `POST` acknowledges as that person, once. A link that was changed, has expired, was used, or
//! whose incident is already acknowledged or resolved is refused with a page saying why, and
//! changes nothing. Tokens never reach the log.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use stopline_core::config::Config;
use stopline_core::incident::Transition;
use stopline_core::reach::link::{AckLink, Unusable, local_time};
use stopline_http::ack_page;
use stopline_store::{Store, StoreError};

use super::{WebhookState, gate};
use crate::events::EngineEvent;
use crate::{EngineError, desk};

/// A link that may be used: what its page names.
struct Usable {
    link: AckLink,
    summary: String,
    person_name: String,
}

/// Why a link acknowledges nothing, as its page says it.
struct Refused(StatusCode, String);

pub(crate) async fn show(
    State(state): State<Arc<WebhookState>>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    let (headers, peer) = (request.headers().clone(), stopline_http::peer_of(&request));
    match usable(&state, &token, &headers, peer).await {
        Ok(usable) => ack_page::question(
            &usable.link.incident.to_string(),
            &usable.summary,
            &usable.person_name,
        ),
        Err(Refused(status, why)) => ack_page::refused(status, &why),
    }
}

pub(crate) async fn acknowledge(
    State(state): State<Arc<WebhookState>>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    let (headers, peer) = (request.headers().clone(), stopline_http::peer_of(&request));
    let usable = match usable(&state, &token, &headers, peer).await {
        Ok(usable) => usable,
        Err(Refused(status, why)) => return ack_page::refused(status, &why),
    };
    let Some(config) = state.routing.config() else {
        return ack_page::refused(StatusCode::NOT_FOUND, "this engine runs without a config");
    };
    let clock = Arc::clone(&state.clock);
    let link = usable.link.clone();
    let done = state
        .store
        .run(move |store| {
            // Checked again holding the write lock: two taps at once acknowledge once.
            store.exclusively(|store| {
                let now = clock.now();
                if let Err(refused) = still_usable(store, &config, &link)? {
                    return Ok(Err(refused));
                }
                desk::transition(
                    store,
                    &config,
                    link.incident,
                    Transition::Acknowledge,
                    link.person.as_str(),
                    false,
                    now,
                )?;
                store.mark_ack_link_used(link.message, link.incident, &link.person, now)?;
                Ok::<_, EngineError>(Ok(local_time(&config, now)))
            })
        })
        .await;
    match done {
        Ok(Ok(at)) => {
            tracing::info!(incident = %usable.link.incident, person = %usable.link.person, "acknowledged from a link sent away from the desk");
            state.events.publish(EngineEvent::StoreChanged);
            ack_page::acknowledged(&usable.link.incident.to_string(), &usable.person_name, &at)
        }
        Ok(Err(Refused(status, why))) => ack_page::refused(status, &why),
        Err(error) => {
            tracing::warn!(%error, "acknowledging from a link failed");
            ack_page::refused(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!(
                    "Stopline could not record it just now, so nothing changed: {error}. Try again."
                ),
            )
        }
    }
}

/// Reads and checks a link: the host, the signature and age, then the store.
async fn usable(
    state: &Arc<WebhookState>,
    token: &str,
    headers: &HeaderMap,
    peer: std::net::IpAddr,
) -> Result<Usable, Refused> {
    if let Err(refusal) = gate(state).check_host(headers) {
        return Err(Refused(refusal.status, refusal.error));
    }
    if state.joined_hub.is_some() {
        return Err(Refused(
            StatusCode::CONFLICT,
            "this desktop is joined to a hub, which pages people away from their desks: acknowledge in Stopline".to_owned(),
        ));
    }
    let now = state.clock.now();
    let link = stopline_http::ack_page::read_link(&gate(state), peer, token, &state.link_key, now)
        .await
        .map_err(|(status, words)| Refused(status, words))?;
    let Some(config) = state.routing.config() else {
        return Err(Refused(
            StatusCode::NOT_FOUND,
            "this engine runs without a config".to_owned(),
        ));
    };
    let checked = link.clone();
    let answer = state
        .store
        .run(move |store| {
            let usable = still_usable(store, &config, &checked)?;
            Ok::<_, EngineError>(usable.map(|()| {
                let incident = store.incident_record(checked.incident);
                (
                    incident
                        .map(|i| stopline_core::reach::message::summary_of(&config, &i))
                        .unwrap_or_default(),
                    config
                        .person(&checked.person)
                        .map_or_else(|| checked.person.to_string(), |p| p.name.clone()),
                )
            }))
        })
        .await;
    match answer {
        Ok(Ok((summary, person_name))) => Ok(Usable {
            link,
            summary,
            person_name,
        }),
        Ok(Err(refused)) => Err(refused),
        Err(error) => Err(Refused(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("Stopline cannot check this link just now: {error}. Try again."),
        )),
    }
}

/// The store's part: the link's message is the one it names, it was not used, and its incident
/// still waits for an acknowledgement.
fn still_usable(
    store: &mut Store,
    config: &Config,
    link: &AckLink,
) -> Result<Result<(), Refused>, EngineError> {
    let unusable = |why: Unusable| {
        let status = StatusCode::from_u16(why.status()).unwrap_or(StatusCode::GONE);
        Ok(Err(Refused(status, why.to_string())))
    };
    if let Some(used) = store.ack_link_used(link.message)? {
        return unusable(Unusable::Used {
            at: local_time(config, used),
        });
    }
    let message = match store.contact_message(link.message) {
        Ok(message) => Some(message),
        Err(StoreError::Corrupt(_)) => None,
        Err(error) => return Err(error.into()),
    };
    if message.is_none_or(|m| m.incident != Some(link.incident) || m.person != link.person) {
        return unusable(Unusable::NotOurs);
    }
    let incident = store.incident_record(link.incident)?;
    match Unusable::settled(config, &incident) {
        None => Ok(Ok(())),
        Some(why) => unusable(why),
    }
}
