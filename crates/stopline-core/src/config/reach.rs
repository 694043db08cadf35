//! The config of pages beyond the desk: each person's `contacts`, `[paging]` and `[smtp]`.
//! Addresses and URLs are checked where they are written; secrets (an SMTP password, a webhook
//! token, a Slack URL) are named, never written in the file.

use serde::Deserialize;
use toml::Spanned;

use crate::reach::{
    Contact, PagingSettings, RateLimit, SmtpSecurity, SmtpSettings, WebhookFormat, WebhookUrl,
    is_email_address, is_loopback_host, url_host,
};
use crate::settings::parse_duration;

use super::checker::Checker;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawContact {
    pub(super) kind: Spanned<String>,
    #[serde(default)]
    pub(super) to: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) url: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) url_env: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) url_keyring: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) format: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) token_env: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) token_keyring: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPaging {
    #[serde(default)]
    pub(super) desktop_grace: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) ack_url_base: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) rate_limit: Option<RawRateLimit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRateLimit {
    pub(super) messages: Spanned<i64>,
    pub(super) per: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub(super) host: Spanned<String>,
    #[serde(default)]
    pub(super) port: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) security: Option<Spanned<String>>,
    pub(super) from: Spanned<String>,
    #[serde(default)]
    pub(super) username: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) password_env: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) password_keyring: Option<Spanned<String>>,
}

/// The address inside `Name <address>`, or the whole text.
pub(crate) fn mailbox_address(text: &str) -> &str {
    match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => text[open + 1..close].trim(),
        _ => text.trim(),
    }
}

impl Checker<'_> {
    /// A person's contacts; `smtp`: whether `[smtp]` is configured, which email needs.
    pub(super) fn contacts(
        &mut self,
        raw: Vec<Spanned<RawContact>>,
        key: &str,
        smtp: bool,
    ) -> Vec<Contact> {
        let mut contacts: Vec<Contact> = Vec::new();
        for (i, entry) in raw.into_iter().enumerate() {
            let key = format!("{key}.contacts[{i}]");
            let span = entry.span();
            let raw = entry.into_inner();
            let contact = match raw.kind.get_ref().as_str() {
                "email" => self.email_contact(&raw, &key, smtp, span.clone()),
                "webhook" => self.webhook_contact(&raw, &key, span.clone()),
                other => {
                    self.problem(
                        raw.kind.span(),
                        format!("{key}.kind"),
                        format!(
                            "unknown contact kind {other:?}: expected \"email\" or \"webhook\""
                        ),
                    );
                    None
                }
            };
            if let Some(contact) = contact {
                if contacts.iter().any(|c| c.key() == contact.key()) {
                    self.problem(span, key, "the same contact is listed twice");
                } else {
                    contacts.push(contact);
                }
            }
        }
        contacts
    }

    fn email_contact(
        &mut self,
        raw: &RawContact,
        key: &str,
        smtp: bool,
        span: std::ops::Range<usize>,
    ) -> Option<Contact> {
        for (name, value) in [
            ("url", &raw.url),
            ("url_env", &raw.url_env),
            ("url_keyring", &raw.url_keyring),
            ("format", &raw.format),
            ("token_env", &raw.token_env),
            ("token_keyring", &raw.token_keyring),
        ] {
            if let Some(value) = value {
                self.problem(
                    value.span(),
                    format!("{key}.{name}"),
                    format!("an email contact has no {name}: it takes `to`"),
                );
            }
        }
        if !smtp {
            self.problem(
                raw.kind.span(),
                key,
                "an email contact needs [smtp]: the relay Stopline sends email through",
            );
        }
        let Some(to) = &raw.to else {
            self.problem(
                span,
                key,
                "an email contact needs `to`, the address to send to",
            );
            return None;
        };
        let address = to.get_ref().trim();
        if !is_email_address(address) {
            self.problem(
                to.span(),
                format!("{key}.to"),
                format!("{address:?} is not an email address: expected name@domain, such as \"aisha@example.org\""),
            );
            return None;
        }
        Some(Contact::Email {
            to: address.to_owned(),
        })
    }

    fn webhook_contact(
        &mut self,
        raw: &RawContact,
        key: &str,
        span: std::ops::Range<usize>,
    ) -> Option<Contact> {
        if let Some(to) = &raw.to {
            self.problem(
                to.span(),
                format!("{key}.to"),
                "a webhook contact has no `to`: it takes `url` (or url_env, url_keyring) and `format`",
            );
        }
        let format = match &raw.format {
            None => {
                self.problem(
                    span.clone(),
                    key,
                    "a webhook contact needs `format`: \"ntfy\", \"slack\" or \"json\"",
                );
                None
            }
            Some(format) => {
                let parsed = WebhookFormat::parse(format.get_ref().trim());
                if parsed.is_none() {
                    self.problem(
                        format.span(),
                        format!("{key}.format"),
                        format!(
                            "unknown webhook format {:?}: expected \"ntfy\", \"slack\" or \"json\"",
                            format.get_ref()
                        ),
                    );
                }
                parsed
            }
        };
        let secret_url = self.secret(key, "url", &raw.url_env, &raw.url_keyring);
        let url = match (&raw.url, secret_url) {
            (Some(url), Ok(Some(_))) => {
                self.problem(
                    url.span(),
                    format!("{key}.url"),
                    "give url, url_env or url_keyring, only one",
                );
                None
            }
            (Some(url), Ok(None)) => self
                .contact_url(url, &format!("{key}.url"))
                .map(WebhookUrl::Given),
            (None, Ok(Some(secret))) => Some(WebhookUrl::Secret(secret)),
            (None, Ok(None)) => {
                self.problem(
                    span,
                    key,
                    "a webhook contact needs `url` (or url_env, url_keyring for a URL that is itself a secret, as Slack's are)",
                );
                None
            }
            (_, Err(())) => None,
        };
        let token = self
            .secret(key, "token", &raw.token_env, &raw.token_keyring)
            .ok()?;
        Some(Contact::Webhook {
            url: url?,
            format: format?,
            token,
        })
    }

    /// An `http(s)://` URL, `https` unless it points at this machine.
    fn contact_url(&mut self, url: &Spanned<String>, key: &str) -> Option<String> {
        let text = url.get_ref().trim();
        let parsed = crate::settings::parse_http_url(text);
        let Some(parsed) = parsed else {
            self.problem(
                url.span(),
                key,
                format!("{text:?} is not a URL: expected https://host/path"),
            );
            return None;
        };
        let authority = parsed.split_once("://").map_or("", |(_, rest)| rest);
        if authority
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("")
            .contains('@')
        {
            self.problem(
                url.span(),
                key,
                "a URL with a user name or password in it would be a secret in the file: give the token with token_env or token_keyring, or the whole URL with url_env or url_keyring",
            );
            return None;
        }
        if !parsed.starts_with("https://") && !is_loopback_host(url_host(&parsed)) {
            self.problem(
                url.span(),
                key,
                format!("{text:?} is plain http: use https (plain http only to this machine, such as http://127.0.0.1:8080)"),
            );
            return None;
        }
        Some(parsed)
    }

    pub(super) fn paging(&mut self, raw: Option<RawPaging>) -> PagingSettings {
        let mut settings = PagingSettings::default();
        let Some(raw) = raw else { return settings };
        if let Some(grace) = &raw.desktop_grace {
            match parse_duration(grace.get_ref()) {
                Some(d) => settings.desktop_grace = d,
                None => self.problem(
                    grace.span(),
                    "paging.desktop_grace",
                    format!(
                        "invalid duration {:?}: expected a whole number with a unit, such as \"30s\" or \"2m\" (\"0s\": contacts at once)",
                        grace.get_ref()
                    ),
                ),
            }
        }
        if let Some(base) = &raw.ack_url_base {
            settings.ack_url_base = self.contact_url(base, "paging.ack_url_base");
        }
        if let Some(limit) = &raw.rate_limit {
            let messages = *limit.messages.get_ref();
            let per = self.duration(&limit.per, "paging.rate_limit.per");
            match u32::try_from(messages) {
                Ok(messages) if messages >= 1 => {
                    if let Some(per) = per {
                        settings.rate_limit = RateLimit { messages, per };
                    }
                }
                _ => self.problem(
                    limit.messages.span(),
                    "paging.rate_limit.messages",
                    format!("{messages} messages: expected at least 1"),
                ),
            }
        }
        settings
    }

    pub(super) fn smtp(&mut self, raw: Option<Spanned<RawSmtp>>) -> Option<SmtpSettings> {
        let raw = raw?.into_inner();
        let host = self.non_empty(&raw.host, "smtp.host");
        let security = match &raw.security {
            None => SmtpSecurity::StartTls,
            Some(text) => match SmtpSecurity::parse(text.get_ref().trim()) {
                Some(security) => security,
                None => {
                    self.problem(
                        text.span(),
                        "smtp.security",
                        format!(
                            "unknown security {:?}: expected \"starttls\", \"tls\" or \"none\"",
                            text.get_ref()
                        ),
                    );
                    return None;
                }
            },
        };
        if security == SmtpSecurity::None && !host.is_empty() && !is_loopback_host(&host) {
            let span = raw.security.as_ref().map_or(raw.host.span(), Spanned::span);
            self.problem(
                span,
                "smtp.security",
                format!("security = \"none\" sends mail unencrypted: only to a relay on this machine (localhost, 127.0.0.1), not {host:?}; use \"starttls\" or \"tls\""),
            );
        }
        let port = match &raw.port {
            None => security.default_port(),
            Some(port) => match u16::try_from(*port.get_ref()) {
                Ok(p) if p > 0 => p,
                _ => {
                    self.problem(
                        port.span(),
                        "smtp.port",
                        format!(
                            "port {} is out of range: expected 1 to 65535",
                            port.get_ref()
                        ),
                    );
                    security.default_port()
                }
            },
        };
        let from = raw.from.get_ref().trim().to_owned();
        if !is_email_address(mailbox_address(&from)) || from.contains(['\r', '\n']) {
            self.problem(
                raw.from.span(),
                "smtp.from",
                format!("{from:?} is not a sender: expected \"stopline@example.org\" or \"Stopline <stopline@example.org>\""),
            );
        }
        let password = self
            .secret("smtp", "password", &raw.password_env, &raw.password_keyring)
            .ok()
            .flatten();
        let username = raw.username.as_ref().map(|u| u.get_ref().trim().to_owned());
        match (&username, &password) {
            (Some(_), None) => self.problem(
                raw.username.as_ref().map_or(raw.host.span(), Spanned::span),
                "smtp.username",
                "a username needs a password: give password_env or password_keyring",
            ),
            (None, Some(_)) => {
                let span = raw
                    .password_env
                    .as_ref()
                    .or(raw.password_keyring.as_ref())
                    .map_or(raw.host.span(), Spanned::span);
                self.problem(span, "smtp.username", "a password needs a username");
            }
            _ => {}
        }
        Some(SmtpSettings {
            host,
            port,
            security,
            from,
            username,
            password,
        })
    }
}
