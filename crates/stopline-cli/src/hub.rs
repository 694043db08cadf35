//! `stopline hub …`: the team hub's commands. `stopline hub` serves senders' deliveries on the
//! organisation's PostgreSQL database; `stopline hub migrate` brings that database's schema up
//! (docs/hub.md says what works today).

use std::net::SocketAddr;
use std::sync::Arc;

use stopline_core::clock::{Clock, SystemClock};
use stopline_hub::{Database, HubError, HubServer, HubState};

use crate::args::{HubArgs, TokenCommand};
use crate::context::Context;
use crate::engine::{
    init_logging, optional_config, runtime, secret_file, shutdown_signal, token_file,
    token_variable,
};
use crate::failure::{Failure, Result};
use crate::output::print_json;

/// Where a hub listens unless told: loopback, beside a desktop engine's 9177.
const DEFAULT_LISTEN: &str = "127.0.0.1:9178";

/// The database the person named, or why there is none.
fn database(url: Option<&str>) -> Result<Database> {
    let url = url.ok_or_else(|| {
        Failure::usage(
            "--database: the hub needs its PostgreSQL database: pass --database URL, set \
             STOPLINE_DATABASE_URL (postgres://USER@HOST:PORT/DATABASE), or give \
             --database-url-file FILE",
        )
    })?;
    Database::new(url).map_err(|e| database_failure("--database", e))
}

/// The database URL: `--database` (or `STOPLINE_DATABASE_URL`), else the first line of
/// `--database-url-file` (or `STOPLINE_DATABASE_URL_FILE`); `None` when neither is given.
pub fn database_url(args: &HubArgs) -> Result<Option<String>> {
    if let Some(url) = &args.database {
        return Ok(Some(url.clone()));
    }
    args.database_url_file
        .as_deref()
        .map(|path| secret_file(path, "--database-url-file"))
        .transpose()
}

/// `stopline hub migrate --database URL`.
pub fn migrate(cx: &Context, url: Option<&str>) -> Result {
    let db = database(url)?;
    let migrated = runtime()?
        .block_on(db.migrate())
        .map_err(|e| database_failure("--database", e))?;
    if cx.json {
        print_json(&serde_json::json!({
            "database": db.target(),
            "from": migrated.from,
            "to": migrated.to,
        }));
    } else if migrated.from == migrated.to {
        out!(
            "The hub's database at {} is up to date (schema version {}).",
            db.target(),
            migrated.to
        );
    } else {
        out!(
            "Migrated the hub's database at {} from schema version {} to {}.",
            db.target(),
            migrated.from,
            migrated.to
        );
    }
    Ok(())
}

/// `stopline hub token create|list|revoke`.
pub fn token(cx: &Context, url: Option<&str>, command: TokenCommand) -> Result {
    let db = database(url)?;
    let runtime = runtime()?;
    let failed = |e| database_failure("--database", e);
    let now = jiff::Timestamp::now();
    match command {
        TokenCommand::Create { person } => {
            // Only a person of the organisation's config can hold a token.
            let config = cx.ws.config()?;
            let person = stopline_engine::lookup::person(&config, &person)
                .map_err(|e| Failure::argument("--person", e))?;
            let made = runtime
                .block_on(db.create_token(&person, None, now))
                .map_err(failed)?;
            if cx.json {
                print_json(&serde_json::json!({
                    "id": made.id, "person": person.as_str(), "token": made.token,
                }));
            } else {
                out!(
                    "Token {} for {person} (shown this once; the hub keeps only its hash):",
                    made.id
                );
                out!("{}", made.token);
            }
        }
        TokenCommand::List => {
            let tokens = runtime.block_on(db.tokens()).map_err(failed)?;
            if cx.json {
                let list: Vec<_> = tokens
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "id": t.id,
                            "person": t.person.as_str(),
                            "created_at": t.created_at.to_string(),
                            "revoked_at": t.revoked_at.map(|r| r.to_string()),
                        })
                    })
                    .collect();
                print_json(&list);
            } else if tokens.is_empty() {
                out!("No tokens yet: stopline hub token create --person PERSON");
            } else {
                for t in &tokens {
                    let revoked = t
                        .revoked_at
                        .map_or(String::new(), |at| format!(", revoked {at}"));
                    out!("{}  {}  made {}{revoked}", t.id, t.person, t.created_at);
                }
            }
        }
        TokenCommand::Revoke { id } => {
            if !runtime
                .block_on(db.revoke_token(id, None, now))
                .map_err(failed)?
            {
                return Err(Failure::refused(format!(
                    "no token {id} to revoke (see stopline hub token list)"
                )));
            }
            if cx.json {
                print_json(&serde_json::json!({ "revoked": id }));
            } else {
                out!("Token {id} is revoked: it no longer works.");
            }
        }
    }
    Ok(())
}

/// `stopline hub oncall [--team T] [--at TIME]`: the hub's view of who is on call, printed as
/// `stopline oncall` prints a desktop's.
pub fn oncall(cx: &Context, url: Option<&str>, team: Option<&str>, at: Option<&str>) -> Result {
    let Some(config) = optional_config(cx)? else {
        return Err(Failure::usage(
            "the hub's rotas come from the organisation's config: pass --config FILE or set \
             STOPLINE_CONFIG",
        ));
    };
    let at = match at {
        Some(text) => stopline_engine::api::parse_time(
            &config,
            stopline_engine::api::TimeArg { name: "--at", text },
        )?,
        None => jiff::Timestamp::now(),
    };
    let team_id = team
        .map(|t| {
            stopline_core::ids::TeamId::new(t)
                .ok()
                .filter(|id| config.team(id).is_some())
                .ok_or_else(|| Failure::usage(format!("--team: unknown team {t:?}")))
        })
        .transpose()?;
    let db = database(url)?;
    let merged = runtime()?
        .block_on(db.rotas_at(&config, at))
        .map_err(|e| database_failure("--database", e))?;
    let rotas: Vec<stopline_engine::api::RotaNow> = merged
        .rotas
        .iter()
        .filter(|r| team_id.as_ref().is_none_or(|t| r.teams.contains(t)))
        .map(|rota| stopline_engine::api::RotaNow {
            layers: (0..rota.layers.len())
                .map(|i| stopline_core::cover::layer_now(rota, i, at))
                .collect(),
            rota: rota.clone(),
        })
        .collect();
    crate::oncall::print_on_call(cx, &rotas, at, &config.workspace.time_zone, team);
    Ok(())
}

/// `stopline hub audit [--person P] [--incident INC] [--limit N]`: newest first.
pub fn audit(
    cx: &Context,
    url: Option<&str>,
    person: Option<&str>,
    incident: Option<&str>,
    limit: u32,
) -> Result {
    let person = person
        .map(|p| {
            stopline_core::ids::PersonId::new(p)
                .map_err(|e| Failure::usage(format!("--person: {e}")))
        })
        .transpose()?;
    let incident = incident
        .map(|i| {
            i.parse::<stopline_core::incident::IncidentId>()
                .map_err(|e| Failure::usage(format!("--incident: {e}")))
        })
        .transpose()?;
    let db = database(url)?;
    let filter = stopline_hub::AuditFilter {
        person,
        incident,
        limit: i64::from(limit),
    };
    let entries = runtime()?
        .block_on(db.audit(&filter))
        .map_err(|e| database_failure("--database", e))?;
    if cx.json {
        print_json(&entries);
        return Ok(());
    }
    if entries.is_empty() {
        out!(
            "Nothing audited yet{}.",
            if filter.person.is_some() || filter.incident.is_some() {
                " that matches"
            } else {
                ""
            }
        );
    }
    for entry in &entries {
        let who = entry.person.as_deref().unwrap_or("(the database)");
        let from = entry
            .desktop
            .as_deref()
            .map_or(String::new(), |d| format!(" from {d}"));
        let reason = entry
            .reason
            .as_deref()
            .map_or(String::new(), |r| format!(": {r}"));
        // Desktops wrote the arguments and reasons: shown with control characters escaped.
        let line = format!(
            "{}  {who}{from}  {} {}  {}{reason}",
            entry.at, entry.name, entry.args, entry.outcome
        );
        out!("{}", stopline_core::text::escape_controls(&line));
    }
    Ok(())
}

/// `stopline hub`: serves until SIGINT or SIGTERM.
pub fn serve(cx: &Context, args: &HubArgs, url: Option<&str>) -> Result {
    init_logging();
    let listen = args
        .listen
        .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("the default address parses"));
    let tls = tls(args)?;
    check_plaintext(listen, tls.is_some(), args.insecure_plaintext)?;
    let (token, given) = match &args.webhook_token_file {
        Some(path) => (token_file(path)?, "--webhook-token-file"),
        None => token_variable().ok_or_else(|| {
            Failure::usage(
                "--webhook-token-file: the hub needs the bearer token senders present: pass \
                 --webhook-token-file FILE or set STOPLINE_WEBHOOK_TOKEN (the same on every hub)",
            )
        })?,
    };
    stopline_engine::secrets::check_strength(&token, "the webhook token")
        .map_err(|e| Failure::argument(given, e))?;
    let db = database(url)?;
    let config = optional_config(cx)?;
    // The routing keys of the config's PagerDuty sources, from the environment or the keyring.
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let routing_keys = stopline_engine::webhook::routing_keys(
        config.as_ref(),
        &env,
        &stopline_engine::secrets::OsKeyring,
    )?;
    // The config's Alertmanagers to poll, their API tokens read the same way.
    let alertmanager_sources = match &config {
        Some(config) => stopline_engine::serve::alertmanager_sources(
            config,
            &env,
            &stopline_engine::secrets::OsKeyring,
        )?,
        None => Vec::new(),
    };
    let runtime = runtime()?;
    runtime.block_on(async {
        // A database this build cannot use is found now, not at the first delivery.
        let version = db
            .schema_version()
            .await
            .map_err(|e| database_failure("--database", e))?;
        if version > stopline_hub::SCHEMA_VERSION {
            return Err(Failure::refused(format!(
                "the hub's database at {} has schema version {version}, newer than this \
                 Stopline knows ({}): upgrade Stopline on this machine",
                db.target(),
                stopline_hub::SCHEMA_VERSION
            )));
        }
        if version != stopline_hub::SCHEMA_VERSION {
            return Err(Failure::refused(format!(
                "the hub's database at {} has schema version {version}, this Stopline's is {}: \
                 run `stopline hub migrate` first",
                db.target(),
                stopline_hub::SCHEMA_VERSION
            )));
        }
        if config.is_none() {
            tracing::warn!("no config: alerts route by their labels, as on a desktop with none");
        }
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let target = db.target().to_owned();
        // Escalation needs the rotas: only with a config. Every hub runs it; a due step is
        // claimed by one.
        // Everything beside serving stops when this is sent.
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        let until_stopped = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }
        };
        let mut state = HubState::new(db.clone(), config, Arc::clone(&clock), token);
        state.routing_keys = routing_keys;
        state.tls = tls;
        let mut tasks = Vec::new();
        if let Some(config) = state.config.clone() {
            tasks.push(tokio::spawn(stopline_hub::escalate_every(
                db.clone(),
                Arc::clone(&config),
                Arc::clone(&clock),
                std::time::Duration::from_secs(1),
                Arc::clone(&state.escalate_now),
                until_stopped(),
            )));
        }
        // Every hub polls every Alertmanager source; each interval one of them gets the poll.
        let pollers = stopline_hub::Pollers {
            database: db,
            config: state.config.clone(),
            clock,
            escalate_now: Arc::clone(&state.escalate_now),
        };
        // Every hub with a config runs write-back (it records the config's write-back
        // settings as it starts; a hub without one must not clear them); each source's queue
        // is served by one hub at a time.
        if pollers.config.is_some() {
            tasks.push(tokio::spawn(
                stopline_hub::WriteBack {
                    database: pollers.database.clone(),
                    sources: alertmanager_sources.clone(),
                    clock: Arc::clone(&pollers.clock),
                }
                .run(until_stopped()),
            ));
        }
        // Every hub with a config sends pages beyond the desk; each message is claimed by one.
        if let Some(config) = pollers.config.clone() {
            let env: std::collections::HashMap<String, String> = std::env::vars().collect();
            for missing in stopline_engine::contacts::missing_secrets(
                &config,
                &env,
                &stopline_engine::secrets::OsKeyring,
            ) {
                tracing::error!(
                    "pages beyond the desk: {missing}; messages to it fail until it is there"
                );
            }
            let secrets: stopline_hub::SecretResolver = Arc::new(move |secret, what| {
                stopline_engine::secrets::resolve(
                    secret,
                    what,
                    &env,
                    &stopline_engine::secrets::OsKeyring,
                )
                .map_err(|e| e.to_string())
            });
            tasks.push(tokio::spawn(
                stopline_hub::ContactSender {
                    database: pollers.database.clone(),
                    config,
                    clock: Arc::clone(&pollers.clock),
                    secrets,
                }
                .run(until_stopped()),
            ));
        }
        for source in alertmanager_sources {
            tracing::info!(source = %source.name, urls = %source.urls.join(", "), every = ?source.poll_interval, "polling");
            let pollers = pollers.clone();
            let stop = until_stopped();
            tasks.push(tokio::spawn(async move { pollers.poll(source, stop).await }));
        }
        let server = HubServer::bind(listen, state)
            .await
            .map_err(|e| database_failure("--listen", e))?;
        tracing::info!(address = %server.local_addr(), database = %target, "hub listening");
        server.serve(shutdown_signal()).await;
        let _ = stopping.send(true);
        for task in tasks {
            let _ = task.await;
        }
        Ok(())
    })
}

/// Plain HTTP beyond loopback only when asked in so many words (behind a proxy that terminates
/// TLS); with `--tls-cert` any address.
fn check_plaintext(listen: SocketAddr, tls: bool, insecure_plaintext: bool) -> Result {
    if tls || listen.ip().is_loopback() {
        return Ok(());
    }
    if insecure_plaintext {
        tracing::warn!(
            address = %listen,
            "serving plain HTTP beyond loopback (--insecure-plaintext): tokens travel in clear unless a proxy terminates TLS"
        );
        return Ok(());
    }
    Err(Failure::usage(format!(
        "--listen: {listen} is not loopback: serve HTTPS there with --tls-cert FILE --tls-key \
         FILE, listen on 127.0.0.1 behind a proxy that terminates TLS, or pass \
         --insecure-plaintext to serve plain HTTP there anyway"
    )))
}

/// The TLS acceptor of `--tls-cert` and `--tls-key`, read now so a bad file stops the start.
fn tls(args: &HubArgs) -> Result<Option<stopline_hub::TlsAcceptor>> {
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => stopline_hub::tls_acceptor(cert, key)
            .map(Some)
            .map_err(|e| Failure::usage(format!("--tls-cert/--tls-key: {e}"))),
        _ => Ok(None),
    }
}

/// A hub error, naming the argument it came in when the person gave something wrong.
fn database_failure(argument: &str, error: HubError) -> Failure {
    if error.is_usage() {
        Failure::usage(format!("{argument}: {error}"))
    } else {
        Failure::refused(error.to_string())
    }
}
