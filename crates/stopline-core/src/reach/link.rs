//! The acknowledge link a page carries away from the desk: bound to one incident, one person
//! and the one message it came in, signed with HMAC-SHA256 under a key only the server that
//! serves the link knows (a file in the data directory), and good for 24 hours at most.
//!
//! The token reads `INCIDENT~PERSON~ISSUED_MS~MESSAGE~MAC`, the MAC in hex over everything
//! before it: a changed character anywhere is refused. That it is unused, and that its
//! incident still waits for an acknowledgement, the store checks when it is used.

use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::Sha256;

use crate::config::Config;
use crate::ids::PersonId;
use crate::incident::{Incident, IncidentId, IncidentState};

/// `2026-12-04 03:02:15 Europe/London`: a moment as the link's pages say it, in the
/// workspace's zone.
pub fn local_time(config: &Config, at: Timestamp) -> String {
    let local = config.workspace.time_zone.to_datetime(at);
    format!(
        "{} {}",
        local.strftime("%Y-%m-%d %H:%M:%S"),
        config.workspace.time_zone_name
    )
}

/// How long a link works, at most.
pub const LINK_LIFETIME: SignedDuration = SignedDuration::from_hours(24);

/// The path acknowledge links are served under, after `[paging] ack_url_base`.
pub const LINK_PATH: &str = "/v1/ack/";

/// What a link acknowledges, and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckLink {
    pub incident: IncidentId,
    pub person: PersonId,
    pub issued_at: Timestamp,
    /// The queued message that carried it: each link is used once.
    pub message: i64,
}

/// Why a link is refused before the store is asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    #[error(
        "this is not an acknowledge link Stopline made: it may have been cut short when it was copied"
    )]
    Malformed,
    #[error("this link has been changed since Stopline sent it, so it acknowledges nothing")]
    Tampered,
    #[error("this link expired at {at} (links work for 24 hours)")]
    Expired { at: Timestamp },
}

/// Why a genuine link that has not expired acknowledges nothing now: what the store (or the
/// hub's database) found when the link was used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("This link was already used, at {at}. Each link works once.")]
    Used { at: String },
    #[error("This link was not sent from this Stopline.")]
    NotOurs,
    #[error("{incident} is already {settled}{}, so this link no longer acknowledges anything.", by.as_ref().map(|name| format!(" by {name}")).unwrap_or_default())]
    Settled {
        incident: IncidentId,
        /// `acknowledged` or `resolved`.
        settled: &'static str,
        /// Who acknowledged it, by name.
        by: Option<String>,
    },
}

impl Unusable {
    /// Why `incident` no longer takes an acknowledgement, if it does not.
    pub fn settled(config: &Config, incident: &Incident) -> Option<Unusable> {
        let settled = match incident.state {
            IncidentState::Triggered => return None,
            IncidentState::Acknowledged => "acknowledged",
            IncidentState::Resolved => "resolved",
        };
        let by = incident
            .acknowledged
            .as_ref()
            .and_then(|stamp| stamp.by.as_ref())
            .map(|p| {
                config
                    .person(p)
                    .map_or_else(|| p.to_string(), |p| p.name.clone())
            });
        Some(Unusable::Settled {
            incident: incident.id,
            settled,
            by,
        })
    }

    /// The HTTP status of its page: 403 for a link from elsewhere, 410 (Gone) otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Unusable::NotOurs => 403,
            Unusable::Used { .. } | Unusable::Settled { .. } => 410,
        }
    }
}

impl AckLink {
    pub fn expires_at(&self) -> Timestamp {
        self.issued_at
            .checked_add(LINK_LIFETIME)
            .unwrap_or(self.issued_at)
    }

    fn payload(&self) -> String {
        format!(
            "{}~{}~{}~{}",
            self.incident.0,
            self.person,
            self.issued_at.as_millisecond(),
            self.message
        )
    }

    /// The token, signed with `key`.
    pub fn token(&self, key: &[u8]) -> String {
        let payload = self.payload();
        format!("{payload}~{}", hex(&mac(key, &payload)))
    }

    /// The whole link under `base` (`[paging] ack_url_base`).
    pub fn url(&self, base: &str, key: &[u8]) -> String {
        format!(
            "{}{LINK_PATH}{}",
            base.trim_end_matches('/'),
            self.token(key)
        )
    }

    /// Reads a token: its signature under `key`, then its age at `now`.
    pub fn read(token: &str, key: &[u8], now: Timestamp) -> Result<AckLink, LinkRefusal> {
        let (payload, signature) = token.rsplit_once('~').ok_or(LinkRefusal::Malformed)?;
        let signature = unhex(signature).ok_or(LinkRefusal::Malformed)?;
        let parts: Vec<&str> = payload.split('~').collect();
        let [incident, person, issued, message] = parts[..] else {
            return Err(LinkRefusal::Malformed);
        };
        let mut check = keyed(key);
        check.update(payload.as_bytes());
        // Compared in constant time by the MAC itself.
        check
            .verify_slice(&signature)
            .map_err(|_| LinkRefusal::Tampered)?;
        let link = AckLink {
            incident: IncidentId(incident.parse().map_err(|_| LinkRefusal::Malformed)?),
            person: PersonId::new(person).map_err(|_| LinkRefusal::Malformed)?,
            issued_at: issued
                .parse()
                .ok()
                .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                .ok_or(LinkRefusal::Malformed)?,
            message: message.parse().map_err(|_| LinkRefusal::Malformed)?,
        };
        if now >= link.expires_at() {
            return Err(LinkRefusal::Expired {
                at: link.expires_at(),
            });
        }
        Ok(link)
    }
}

fn keyed(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"))
}

fn mac(key: &[u8], payload: &str) -> Vec<u8> {
    let mut mac = keyed(key);
    mac.update(payload.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a key of thirty-two bytes, as in the file";

    fn link() -> AckLink {
        AckLink {
            incident: IncidentId(12),
            person: PersonId::new("aisha").unwrap(),
            issued_at: "2026-12-04T03:00:00Z".parse().unwrap(),
            message: 7,
        }
    }

    #[test]
    fn a_link_reads_back_as_it_was_made_until_it_expires() {
        let token = link().token(KEY);
        let now: Timestamp = "2026-12-04T03:05:00Z".parse().unwrap();
        assert_eq!(AckLink::read(&token, KEY, now), Ok(link()));
        let late: Timestamp = "2026-12-05T03:00:00Z".parse().unwrap();
        assert_eq!(
            AckLink::read(&token, KEY, late),
            Err(LinkRefusal::Expired {
                at: link().expires_at()
            })
        );
    }

    #[test]
    fn any_change_to_a_link_is_refused() {
        let token = link().token(KEY);
        let now: Timestamp = "2026-12-04T03:05:00Z".parse().unwrap();
        // Another incident, another person, a later issue time: each breaks the signature.
        for (from, to) in [("12~", "13~"), ("aisha", "ben"), ("~7~", "~8~")] {
            let changed = token.replacen(from, to, 1);
            assert_eq!(
                AckLink::read(&changed, KEY, now),
                Err(LinkRefusal::Tampered),
                "{changed}"
            );
        }
        let flipped = format!(
            "{}{}",
            &token[..token.len() - 1],
            if token.ends_with('0') { '1' } else { '0' }
        );
        assert_eq!(
            AckLink::read(&flipped, KEY, now),
            Err(LinkRefusal::Tampered)
        );
        assert_eq!(
            AckLink::read(&token, b"another key", now),
            Err(LinkRefusal::Tampered)
        );
        for broken in ["", "12~aisha", &token[..token.len() - 3], "x~y~z~w~00"] {
            assert!(AckLink::read(broken, KEY, now).is_err(), "{broken}");
        }
    }

    #[test]
    fn the_url_puts_the_token_under_the_base() {
        let url = link().url("https://stopline.example.org/", KEY);
        assert!(url.starts_with("https://stopline.example.org/v1/ack/12~aisha~"));
    }
}
