//! The HTTP clients Stopline talks out with (Alertmanager, the team hub, push webhooks), built
//! one way: rustls with ring, trusting the system's CA certificates, Stopline's user agent.
//!
//! A system with no CA certificates at all (a minimal install without `ca-certificates`) still
//! gets a client, after one warning that says what to install: plain HTTP works, and each HTTPS
//! request fails on its own with an unknown-issuer error. A missing trust store must not stop
//! the engine, whose webhook, loopback sources and desktop notifications need none.

use std::sync::atomic::{AtomicBool, Ordering};

/// Builds a client from `configure` (timeouts and such, applied to a fresh builder).
pub fn client(
    configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> Result<reqwest::Client, String> {
    // rustls needs a process-wide crypto provider; installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = || {
        configure(
            reqwest::Client::builder().user_agent(concat!("stopline/", env!("CARGO_PKG_VERSION"))),
        )
    };
    let error = match builder().build() {
        Ok(client) => return Ok(client),
        Err(error) => error,
    };
    let cause = root_cause(&error);
    if !cause.contains("CA certificates") {
        return Err(cause);
    }
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "{cause}: HTTPS requests (to alert sources, the hub, webhooks) will fail until CA \
             certificates are installed (the ca-certificates package) and Stopline restarted; \
             plain HTTP works"
        );
    }
    builder()
        .tls_certs_only(Vec::new())
        .build()
        .map_err(|e| root_cause(&e))
}

/// The innermost cause of an error: reqwest's own message says only "builder error".
fn root_cause(error: &dyn std::error::Error) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
