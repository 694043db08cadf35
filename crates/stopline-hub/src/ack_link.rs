//! `GET` and `POST /v1/ack/{token}` on the hub: the acknowledge link in a page the hub sent
//! away from the desk, as a desktop's `stopline serve` serves its own (docs/paging.md). The
//! token is the credential, signed under the key in the hub's database, so any hub checks a
//! link any other sent. A `GET` shows one button and changes nothing; the `POST` acknowledges
//! once. Tokens never reach the log.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use stopline_core::config::Config;
use stopline_core::reach::link::{AckLink, local_time};
use stopline_core::reach::message::summary_of;
use stopline_http::{ack_page, peer_of};

use crate::state::HubState;

pub(crate) async fn show(
    State(state): State<Arc<HubState>>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    let (link, config) = match read(&state, &token, request).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    match state.database.link_state(&config, &link).await {
        Ok(Ok(incident)) => {
            let name = config
                .person(&link.person)
                .map_or_else(|| link.person.to_string(), |p| p.name.clone());
            ack_page::question(
                &link.incident.to_string(),
                &summary_of(&config, &incident),
                &name,
            )
        }
        Ok(Err(why)) => ack_page::refused(status(why.status()), &why.to_string()),
        Err(error) => unavailable(&error.to_string()),
    }
}

pub(crate) async fn acknowledge(
    State(state): State<Arc<HubState>>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    let (link, config) = match read(&state, &token, request).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let now = state.clock.now();
    match state
        .database
        .acknowledge_by_link(&config, &link, now)
        .await
    {
        Ok(Ok(())) => {
            tracing::info!(incident = %link.incident, person = %link.person, "acknowledged from a link sent away from the desk");
            let name = config
                .person(&link.person)
                .map_or_else(|| link.person.to_string(), |p| p.name.clone());
            ack_page::acknowledged(&link.incident.to_string(), &name, &local_time(&config, now))
        }
        Ok(Err(why)) => ack_page::refused(status(why.status()), &why.to_string()),
        Err(error) => {
            tracing::warn!(%error, "acknowledging from a link failed");
            unavailable(&error.to_string())
        }
    }
}

/// The host, then the token's signature and age (a changed token counts as a failed
/// authentication, slowed like a wrong token); the link, with the config it is read by.
async fn read(
    state: &Arc<HubState>,
    token: &str,
    request: Request,
) -> Result<(AckLink, Arc<Config>), Response> {
    let (headers, peer) = (request.headers(), peer_of(&request));
    let Some(config) = state.config.clone() else {
        return Err(unavailable("the hub runs without a config"));
    };
    if let Err(refusal) = state.gate().check_host(headers) {
        return Err(ack_page::refused(refusal.status, &refusal.error));
    }
    let key = match state.database.ack_link_key().await {
        Ok(key) => key,
        Err(error) => return Err(unavailable(&error.to_string())),
    };
    let link = ack_page::read_link(&state.gate(), peer, token, &key, state.clock.now())
        .await
        .map_err(|(status, words)| ack_page::refused(status, &words))?;
    Ok((link, config))
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::GONE)
}

fn unavailable(error: &str) -> Response {
    ack_page::refused(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!(
            "Stopline could not check this link just now, so nothing changed: {error}. Try again."
        ),
    )
}
