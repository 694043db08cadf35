//! The pages an acknowledge link shows in a phone's browser: the question (one button), the
//! answer, and a refusal saying why. No script, a strict Content-Security-Policy, nothing
//! cached, no referrer (the link is a credential), and every piece of outside text escaped.
//!
//! A `GET` only ever shows the question: link previewers and mail scanners fetch links, and
//! must not acknowledge anything. Only the button's `POST` does.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use stopline_core::reach::link::{AckLink, LinkRefusal};

use crate::{Gate, Refusal};

/// Reads an acknowledge link's token, signed with `key`, at `now`, as both servers do: an
/// expired link is 410; a changed or cut one is 403 and counts as a failed authentication from
/// `peer`, slowed like a wrong token (guessing links is guessing tokens). The refusal comes back
/// as its status and the words of its page.
pub async fn read_link(
    gate: &Gate<'_>,
    peer: std::net::IpAddr,
    token: &str,
    key: &[u8],
    now: jiff::Timestamp,
) -> Result<AckLink, (StatusCode, String)> {
    match AckLink::read(token, key, now) {
        Ok(link) => Ok(link),
        Err(refusal @ LinkRefusal::Expired { .. }) => {
            Err((StatusCode::GONE, format!("{refusal}.")))
        }
        Err(refusal) => {
            let words = format!("{refusal}.");
            let failed = Refusal::new(StatusCode::FORBIDDEN, words.clone(), "token");
            gate.failed(peer, "acknowledge link", failed).await;
            Err((StatusCode::FORBIDDEN, words))
        }
    }
}

/// Inline style only (no script at all), forms only to this same address, never framed.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = "body{font:17px/1.45 system-ui,sans-serif;max-width:34rem;margin:2rem auto;\
padding:0 1rem;color:#1b1b1b;background:#fff}h1{font-size:1.3rem}p.what{background:#f3f3f3;\
padding:.75rem;border-radius:.4rem}button{font:inherit;font-weight:600;color:#fff;\
background:#b3261e;border:0;border-radius:.5rem;padding:.9rem 1.4rem;width:100%}\
.refused h1{color:#b3261e}@media(prefers-color-scheme:dark){body{color:#eee;background:#151515}\
p.what{background:#262626}}";

/// Text made safe inside HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, class: &str, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title>\
         <style>{STYLE}</style></head><body class=\"{class}\"><h1>{title}</h1>{body}</body></html>",
        title = escape(title),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The question a `GET` shows: what the incident is, as whom, and one button that POSTs.
pub fn question(incident: &str, summary: &str, person_name: &str) -> Response {
    page(
        StatusCode::OK,
        "question",
        &format!("Acknowledge {incident}?"),
        &format!(
            "<p class=\"what\">{summary}</p>\
             <p>You acknowledge it as <b>{person}</b>: escalation stops, and your team sees that \
             you have it.</p>\
             <form method=\"post\"><button type=\"submit\">Acknowledge {incident}</button></form>",
            incident = escape(incident),
            summary = escape(summary),
            person = escape(person_name),
        ),
    )
}

/// The answer to the button's `POST`.
pub fn acknowledged(incident: &str, person_name: &str, at: &str) -> Response {
    page(
        StatusCode::OK,
        "done",
        &format!("{incident} is acknowledged"),
        &format!(
            "<p>Acknowledged as <b>{person}</b> at {at}. Escalation has stopped. Open Stopline \
             to swarm on it.</p>",
            person = escape(person_name),
            at = escape(at),
        ),
    )
}

/// A link that acknowledges nothing, and why.
pub fn refused(status: StatusCode, why: &str) -> Response {
    page(
        status,
        "refused",
        "This link acknowledges nothing",
        &format!("<p>{}</p>", escape(why)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_cannot_become_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("a\u{1b}[2Jb"), "a\u{fffd}[2Jb");
    }

    #[test]
    fn every_page_forbids_scripts_caching_and_referrers() {
        for response in [
            question("INC-1", "x", "Aisha"),
            acknowledged("INC-1", "Aisha", "03:00"),
            refused(StatusCode::GONE, "expired"),
        ] {
            let headers = response.headers();
            assert!(
                headers[header::CONTENT_SECURITY_POLICY]
                    .to_str()
                    .unwrap()
                    .starts_with("default-src 'none'")
            );
            assert_eq!(headers[header::CACHE_CONTROL], "no-store");
            assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        }
    }
}
