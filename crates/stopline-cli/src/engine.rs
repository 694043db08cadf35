//! The subcommands that run the engine or look after its data directory: `serve`, `sync`,
//! `token`, `sources`, `backup`, `restore` and `secret`.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use stopline_core::clock::{Clock, SystemClock};
use stopline_core::settings::parse_http_url;
use stopline_engine::EngineError;
use stopline_engine::alertmanager::{AlertmanagerClient, PollTarget, poll_forever, poll_once};
use stopline_engine::events::EngineEvents;
use stopline_engine::pager::OpenIncident;
use stopline_engine::routing::AlertRouting;
use stopline_engine::secrets::{KEYRING_SERVICE, OsKeyring, SecretStore};
use stopline_engine::serve::{Engine, ServeOptions};

use crate::args::ServeArgs;
use crate::context::Context;
use crate::failure::{Failure, Result};
use crate::output::{local_time, print_json, print_table};

fn check_urls(urls: &[String]) -> Result<Vec<String>> {
    urls.iter()
        .map(|url| {
            parse_http_url(url).ok_or_else(|| {
                Failure::usage(format!(
                    "--alertmanager: {url:?} is not a URL: expected http://HOST:PORT"
                ))
            })
        })
        .collect()
}

/// The config if there is one; `None` (routing by labels) if there is none; an error if it is
/// broken, since serving a half-read config would route alerts wrongly.
pub(crate) fn optional_config(cx: &Context) -> Result<Option<stopline_core::config::Config>> {
    match cx.ws.config() {
        Ok(config) => Ok(Some((*config).clone())),
        Err(EngineError::ConfigMissing { path }) => {
            tracing::info!(
                "no config at {}: alerts route by their labels (service/app/application/job, team)",
                path.display()
            );
            Ok(None)
        }
        Err(other) => Err(other.into()),
    }
}

pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STOPLINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::refused(format!("cannot start the async runtime: {e}")))
}

/// Completes on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down: finishing requests in flight");
}

/// The environment variable that holds the webhook token, out of sight of `ps`.
const TOKEN_VARIABLE: &str = "STOPLINE_WEBHOOK_TOKEN";

/// The webhook token `serve` was given, and the argument that gave it (for errors): the flag,
/// else the file, else the environment; `None` to use the one stored in the data directory.
fn given_token(args: &ServeArgs) -> Result<Option<(String, &'static str)>> {
    if let Some(token) = &args.webhook_token {
        tracing::warn!(
            "--webhook-token shows the token to every user of this machine (ps, /proc): use {TOKEN_VARIABLE} or --webhook-token-file instead"
        );
        return Ok(Some((token.trim().to_owned(), "--webhook-token")));
    }
    if let Some(path) = &args.webhook_token_file {
        return Ok(Some((token_file(path)?, "--webhook-token-file")));
    }
    Ok(token_variable())
}

/// The first line of a `--webhook-token-file`.
pub(crate) fn token_file(path: &std::path::Path) -> Result<String> {
    secret_file(path, "--webhook-token-file")
}

/// The first line of a file holding a secret given as `argument` (a token, a database URL with
/// its password), trimmed.
pub(crate) fn secret_file(path: &std::path::Path, argument: &str) -> Result<String> {
    let refuse = |why: String| Failure::usage(format!("{argument}: {}: {why}", path.display()));
    // A secret is one short line: a FIFO, a device or a big file is refused, not read.
    let meta = std::fs::metadata(path).map_err(|e| refuse(e.to_string()))?;
    if !meta.is_file() || meta.len() > 4096 {
        return Err(refuse("not a regular file of at most 4 KiB".to_owned()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| refuse(e.to_string()))?;
    Ok(text.lines().next().unwrap_or("").trim().to_owned())
}

/// The token in `$STOPLINE_WEBHOOK_TOKEN`, and that name (for errors), when it is set.
pub(crate) fn token_variable() -> Option<(String, &'static str)> {
    std::env::var(TOKEN_VARIABLE)
        .ok()
        .map(|token| (token.trim().to_owned(), TOKEN_VARIABLE))
        .filter(|(token, _)| !token.is_empty())
}

pub fn serve(cx: &Context, args: ServeArgs) -> Result {
    init_logging();
    let token = given_token(&args)?;
    let config = optional_config(cx)?;
    let options = ServeOptions {
        config_path: config.as_ref().map(|_| cx.ws.config_path().to_owned()),
        config,
        alertmanager_urls: check_urls(&args.alertmanagers)?,
        listen: args.listen,
        token: token.as_ref().map(|(token, _)| token.clone()),
        allowed_hosts: args.allow_hosts,
        env: std::env::vars().collect::<HashMap<_, _>>(),
        keyring: None,
        open_incident: desktop_opener(cx),
    };
    let pages = options.config.is_some();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let runtime = runtime()?;
    let served = runtime.block_on(async {
        // Starting checks the store first: nothing reads it before.
        let engine = Engine::start(cx.ws.data_dir(), options, clock)
            .await
            .map_err(|error| match (&error, &token) {
                // A weak token given on the command line: name where it came from.
                (EngineError::WeakSecret { what, .. }, Some((_, given)))
                    if what == "the webhook token" =>
                {
                    Failure::argument(given, error)
                }
                _ => error.into(),
            })?;
        let person = cx.ws.whoami()?;
        tracing::info!("{}", engine.notifications());
        match (pages, person) {
            (false, _) => tracing::info!("no config, so no rotas: nobody is paged"),
            (true, Some(person)) => {
                tracing::info!(%person, "pages for this person show on this desktop")
            }
            (true, None) => tracing::warn!(
                "nobody sits at this desktop: run `stopline whoami --set PERSON` to get pages here"
            ),
        }
        engine.run(shutdown_signal()).await?;
        Ok(())
    });
    // A blocking task still stuck (a config read on a hung mount) must not keep the process
    // from exiting once the engine has stopped.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    served
}

/// What a notification's Open button does under `stopline serve`: start the desktop app on the
/// same config and data directory, with `--open INCIDENT`. The app is
/// `$STOPLINE_DESKTOP` when set (empty: no Open button), else `stopline-desktop` beside this
/// binary; with neither, notifications offer Acknowledge only.
fn desktop_opener(cx: &Context) -> Option<OpenIncident> {
    let app = match std::env::var_os("STOPLINE_DESKTOP") {
        Some(app) if app.is_empty() => return None,
        Some(app) => std::path::PathBuf::from(app),
        None => std::env::current_exe()
            .ok()?
            .with_file_name(format!("stopline-desktop{}", std::env::consts::EXE_SUFFIX)),
    };
    if !app.is_file() {
        return None;
    }
    let config = cx.ws.config_path().to_owned();
    let data_dir = cx.ws.data_dir().root().to_owned();
    Some(Arc::new(move |incident| {
        let started = std::process::Command::new(&app)
            .env("STOPLINE_CONFIG", &config)
            .env("STOPLINE_DATA_DIR", &data_dir)
            .arg("--open")
            .arg(incident.to_string())
            .stdin(std::process::Stdio::null())
            .spawn();
        match started {
            // Reaped by a thread of its own, so a closed app leaves no zombie behind.
            Ok(mut child) => {
                std::thread::spawn(move || child.wait());
            }
            Err(error) => {
                tracing::warn!(app = %app.display(), %error, "cannot open the desktop app")
            }
        }
    }))
}

pub fn token(cx: &Context) -> Result {
    let token = cx.ws.webhook_token()?;
    if cx.json {
        print_json(&serde_json::json!({ "token": token, "file": cx.ws.data_dir().token_path() }));
    } else {
        out!("{token}");
    }
    Ok(())
}

pub fn backup(cx: &Context, file: Option<&std::path::Path>) -> Result {
    let now = cx.ws.now();
    let written = stopline_engine::backup::backup(cx.ws.data_dir(), file, now)?;
    if cx.json {
        print_json(&serde_json::json!({ "backup": written, "at": now }));
    } else {
        out!("Backed up the store to {}", written.display());
    }
    Ok(())
}

pub fn restore(cx: &Context, file: &std::path::Path) -> Result {
    let restored = stopline_engine::backup::restore(cx.ws.data_dir(), file, cx.ws.now())?;
    if cx.json {
        print_json(&serde_json::json!({
            "restored": file,
            "replaced": restored.replaced,
            "schema_version": restored.schema_version,
        }));
    } else {
        out!("Restored {} as the store.", file.display());
        if let Some(replaced) = &restored.replaced {
            out!(
                "The store it replaced was moved aside to {}",
                replaced.display()
            );
        }
    }
    Ok(())
}

/// `stopline sync`: pulls every Alertmanager source into the store, once (`--once`) or on each
/// source's poll interval until SIGINT or SIGTERM. Pages nobody and serves no webhook.
pub fn sync(cx: &Context, once: bool, alertmanagers: &[String]) -> Result {
    init_logging();
    let options = ServeOptions {
        config: optional_config(cx)?,
        alertmanager_urls: check_urls(alertmanagers)?,
        env: std::env::vars().collect(),
        ..ServeOptions::default()
    };
    let sources = options.alertmanager_sources()?;
    if sources.is_empty() {
        return Err(Failure::usage(
            "no Alertmanager to pull from: configure [[sources]] or pass --alertmanager URL",
        ));
    }
    let target = PollTarget {
        store: cx.ws.store()?,
        routing: AlertRouting::new(options.config.clone()),
        events: EngineEvents::default(),
        clock: Arc::new(SystemClock),
    };
    let client = AlertmanagerClient::new().map_err(|e| Failure::refused(e.to_string()))?;
    if !once {
        return runtime()?.block_on(async {
            let tasks: Vec<_> = sources
                .into_iter()
                .map(|source| {
                    tracing::info!(source = %source.name, urls = %source.urls.join(", "), every = ?source.poll_interval, "syncing");
                    tokio::spawn(poll_forever(source, client.clone(), target.clone()))
                })
                .collect();
            shutdown_signal().await;
            for task in &tasks {
                task.abort();
            }
            Ok(())
        });
    }
    let mut failed = Vec::new();
    runtime()?.block_on(async {
        for source in &sources {
            match poll_once(source, &client, &target).await {
                Ok(outcome) => {
                    let s = &outcome.summary;
                    out!(
                        "{}: ok, {} alerts ({} new, {} resolved, {} incidents opened)",
                        source.name,
                        outcome.alerts,
                        s.new,
                        s.resolved,
                        s.opened.len()
                    );
                    for member in &outcome.unreachable {
                        eprintln!("stopline: warning: {}: {member}", source.name);
                    }
                }
                Err(error) => failed.push(format!("{}: {error}", source.name)),
            }
        }
    });
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::refused(
            failed
                .iter()
                .map(|f| format!("source {f}"))
                .collect::<Vec<_>>()
                .join("\n"),
        ))
    }
}

pub fn sources(cx: &Context) -> Result {
    let list = cx.ws.sources()?;
    if cx.json {
        print_json(&list);
        return Ok(());
    }
    if list.is_empty() {
        out!(
            "No alert sources yet: configure [[sources]] or run `stopline serve --alertmanager URL`."
        );
        return Ok(());
    }
    let zone = cx.display_zone();
    let when = |t: Option<Timestamp>| t.map_or("-".to_owned(), |t| local_time(t, &zone));
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.kind.clone(),
                s.state.to_owned(),
                when(s.last_success),
                when(s.failing_since),
                s.waiting.to_string(),
                s.last_error
                    .clone()
                    .or_else(|| s.outbox_error.clone())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    print_table(
        &[
            "SOURCE",
            "KIND",
            "STATE",
            "LAST SUCCESS",
            "FAILING SINCE",
            "WAITING",
            "LAST ERROR",
        ],
        &rows,
    );
    for source in &list {
        if let Some(summary) = source.offline_summary(|t| local_time(t, &zone)) {
            out!("{}: {summary}", source.name);
        }
        if source.abandoned > 0 {
            out!(
                "{}: {} actions refused for good and set aside (see the incident's timeline)",
                source.name,
                source.abandoned
            );
        }
    }
    Ok(())
}

fn check_secret_name(name: &str) -> Result<&str> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(name)
    } else {
        Err(Failure::usage(format!(
            "invalid secret name {name:?}: use letters, digits, '-', '_' and '.'"
        )))
    }
}

pub fn secret_set(name: &str) -> Result {
    use std::io::Read;
    let name = check_secret_name(name)?;
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!(
            "stopline: type the secret, then press Ctrl-D (or pipe it in: stopline secret set {name} < FILE)"
        );
    }
    let mut secret = String::new();
    std::io::stdin().read_to_string(&mut secret).map_err(|e| {
        Failure::refused(format!("cannot read the secret from standard input: {e}"))
    })?;
    let secret = secret.trim_end_matches(['\n', '\r']);
    if secret.trim().is_empty() {
        return Err(Failure::usage(
            "no secret on standard input: nothing was stored",
        ));
    }
    OsKeyring
        .set(name, secret)
        .map_err(|e| Failure::refused(e.to_string()))?;
    out!("Stored {name:?} in the OS keyring (service \"{KEYRING_SERVICE}\").");
    Ok(())
}

pub fn secret_delete(name: &str) -> Result {
    let name = check_secret_name(name)?;
    match OsKeyring.delete(name) {
        Ok(true) => {
            out!("Removed {name:?} from the OS keyring.");
            Ok(())
        }
        Ok(false) => Err(Failure {
            status: 1,
            message: format!("no keyring entry {name:?}: nothing was removed"),
        }),
        Err(e) => Err(Failure::refused(e.to_string())),
    }
}
