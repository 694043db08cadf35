//! What a page away from the desk says: an email's subject and plain-text body, and the bodies
//! of the three webhook formats (ntfy's JSON publishing, a Slack incoming webhook, Stopline's
//! own JSON). A flood held by the rate limit is one summary in the same shapes.
//!
//! Alert text comes from outside: control characters are written as escapes (so a title cannot
//! add a header line or a fake body), and Slack's `<`, `>` and `&` are escaped (so a title
//! cannot make a link).

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::config::Config;
use crate::ids::PersonId;
use crate::incident::{Incident, IncidentId};
use crate::money::group_thousands;
use crate::text::escape_controls;

/// What a page is about, as its notification's summary (and an email's subject) says it: the
/// application and the alert, `Payment Gateway: HighErrorRate`.
pub fn summary_of(config: &Config, incident: &Incident) -> String {
    match incident
        .application
        .as_ref()
        .and_then(|id| config.application(id))
    {
        Some(app) => format!("{}: {}", app.name, incident.title),
        None => incident.title.clone(),
    }
}

/// The owning team's name, or "no team".
pub fn team_name(config: &Config, incident: &Incident) -> String {
    incident
        .team
        .as_ref()
        .map(|t| config.team(t).map_or(t.to_string(), |t| t.name.clone()))
        .unwrap_or_else(|| "no team".to_owned())
}

/// The application's estimated loss per hour, `GBP 780,000/h`; `None` without an application.
pub fn loss_per_hour(config: &Config, incident: &Incident) -> Option<String> {
    let app = incident
        .application
        .as_ref()
        .and_then(|id| config.application(id))?;
    Some(format!(
        "{} {}/h",
        config.workspace.currency,
        group_thousands(app.exposure_per_hour.0)
    ))
}

/// One page as its messages tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageText {
    pub incident: IncidentId,
    /// The notification's summary: `Payment Gateway: HighErrorRate`.
    pub summary: String,
    pub team: String,
    pub severity: String,
    /// `GBP 780,000/h`, or `None` when the incident has no application.
    pub loss_per_hour: Option<String>,
    pub opened_at: Timestamp,
    pub person: PersonId,
    pub person_name: String,
    /// `primary on payments-oncall`.
    pub reason: String,
    /// The acknowledge link, when `[paging] ack_url_base` is set.
    pub ack_link: Option<String>,
}

impl PageText {
    /// The page queued as message `message` at `queued_at`, with its acknowledge link (signed
    /// with `link_key`) when `[paging] ack_url_base` is set.
    pub fn of_message(
        config: &Config,
        incident: &Incident,
        person: &PersonId,
        reason: &str,
        (message, queued_at): (i64, Timestamp),
        link_key: &[u8],
    ) -> Self {
        let ack_link = config.paging.ack_url_base.as_ref().map(|base| {
            crate::reach::link::AckLink {
                incident: incident.id,
                person: person.clone(),
                issued_at: queued_at,
                message,
            }
            .url(base, link_key)
        });
        Self::new(config, incident, person, reason, ack_link)
    }

    /// The page to `person` (paged as `reason`) about `incident`, as the config names things.
    pub fn new(
        config: &Config,
        incident: &Incident,
        person: &PersonId,
        reason: &str,
        ack_link: Option<String>,
    ) -> Self {
        PageText {
            incident: incident.id,
            summary: summary_of(config, incident),
            team: team_name(config, incident),
            severity: incident.severity.as_str().to_owned(),
            loss_per_hour: loss_per_hour(config, incident),
            opened_at: incident.opened_at,
            person: person.clone(),
            person_name: config
                .person(person)
                .map_or_else(|| person.to_string(), |p| p.name.clone()),
            reason: reason.to_owned(),
            ack_link,
        }
    }
}

/// A message: one page, the summary of several a flood held back, or a test an
/// administrator sends (`stopline contact-test`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Page(PageText),
    Summary(Vec<PageText>),
    Test {
        person_name: String,
        workspace: String,
    },
}

fn clean(text: &str) -> String {
    escape_controls(text).into_owned()
}

impl PageText {
    fn loss(&self) -> &str {
        self.loss_per_hour.as_deref().unwrap_or("unknown")
    }

    fn line(&self) -> String {
        format!(
            "{} {} ({}, {})",
            self.incident,
            clean(&self.summary),
            clean(&self.team),
            self.severity
        )
    }
}

impl Message {
    /// The email's subject: the notification's summary and the incident.
    pub fn subject(&self) -> String {
        match self {
            Message::Page(page) => format!("{} ({})", clean(&page.summary), page.incident),
            Message::Summary(pages) => summary_title(pages.len()),
            Message::Test { person_name, .. } => {
                format!("Stopline test page for {}", clean(person_name))
            }
        }
    }

    /// The plain-text body every channel carries in some form.
    pub fn body(&self) -> String {
        match self {
            Message::Page(page) => {
                let mut body = format!(
                    "Stopline pages you: {summary}\n\n\
                     Incident:   {incident}, open since {opened}\n\
                     Team:       {team}\n\
                     Severity:   {severity}\n\
                     Est. loss:  {loss} (per hour)\n\
                     Why you:    you are paged as {reason}\n",
                    summary = clean(&page.summary),
                    incident = page.incident,
                    opened = page.opened_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                    team = clean(&page.team),
                    severity = page.severity,
                    loss = page.loss(),
                    reason = clean(&page.reason),
                );
                match &page.ack_link {
                    Some(link) => body.push_str(&format!(
                        "\nAcknowledge as {name}: {link}\n\
                         (The link opens a page with one button. It works once, for 24 hours, \
                         and not after the incident is acknowledged or resolved.)\n",
                        name = clean(&page.person_name),
                    )),
                    None => body.push_str(&format!(
                        "\nAcknowledge in Stopline, or with: stopline ack {}\n",
                        page.incident
                    )),
                }
                body
            }
            Message::Summary(pages) => {
                let mut body = format!(
                    "{}. Stopline holds pages to a rate, so this one message stands for them:\n\n",
                    summary_title(pages.len())
                );
                for page in pages {
                    body.push_str(&format!("  {}\n", page.line()));
                }
                body.push_str(
                    "\nAcknowledge them in Stopline, or with `stopline ack INC-…`. Pages that \
                     follow within the rate window come as another summary.\n",
                );
                body
            }
            Message::Test {
                person_name,
                workspace,
            } => format!(
                "This is a test of the pages Stopline sends {} away from the desk, for {}.\n\
                 Nothing is wrong: no incident is open. If this reached you, this contact works.\n",
                clean(person_name),
                clean(workspace)
            ),
        }
    }

    /// The body of an ntfy JSON publish to `topic`: priority max, a siren tag, and an
    /// Acknowledge button that calls the link (ntfy's `http` action, a POST).
    pub fn ntfy(&self, topic: &str) -> Value {
        let test = matches!(self, Message::Test { .. });
        let mut body = json!({
            "topic": topic,
            "title": self.subject(),
            "message": self.body(),
            // A test is not an emergency: ntfy's default priority.
            "priority": if test { 3 } else { 5 },
            "tags": if test { json!(["stopline"]) } else { json!(["rotating_light", "stopline"]) },
        });
        if let Message::Page(page) = self
            && let Some(link) = &page.ack_link
        {
            body["actions"] = json!([{
                "action": "http",
                "label": "Acknowledge",
                "url": link,
                "method": "POST",
                "clear": true,
            }]);
            body["click"] = json!(link);
        }
        body
    }

    /// The body of a Slack incoming webhook: the text as a fallback, a section, and a button
    /// that opens the link (a browser GET: the page it shows asks before acknowledging).
    pub fn slack(&self) -> Value {
        let text = format!(
            "*{}*\n{}",
            slack_escape(&self.subject()),
            slack_escape(&self.body())
        );
        let mut blocks = vec![json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": text},
        })];
        if let Message::Page(page) = self
            && let Some(link) = &page.ack_link
        {
            blocks.push(json!({
                "type": "actions",
                "elements": [{
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Acknowledge"},
                    "style": "danger",
                    "url": link,
                }],
            }));
        }
        json!({ "text": slack_escape(&self.subject()), "blocks": blocks })
    }

    /// Stopline's own JSON (documented in docs/paging.md), carrying its idempotency key.
    pub fn json(&self, idempotency_key: &str, sent_at: Timestamp) -> Value {
        match self {
            Message::Page(page) => json!({
                "type": "page",
                "idempotency_key": idempotency_key,
                "sent_at": sent_at.to_string(),
                "page": page_json(page),
            }),
            Message::Summary(pages) => json!({
                "type": "summary",
                "idempotency_key": idempotency_key,
                "sent_at": sent_at.to_string(),
                "title": summary_title(pages.len()),
                "pages": pages.iter().map(page_json).collect::<Vec<_>>(),
            }),
            Message::Test { .. } => json!({
                "type": "test",
                "idempotency_key": idempotency_key,
                "sent_at": sent_at.to_string(),
                "title": self.subject(),
                "message": self.body(),
            }),
        }
    }
}

fn page_json(page: &PageText) -> Value {
    json!({
        "incident": page.incident.to_string(),
        "summary": page.summary,
        "team": page.team,
        "severity": page.severity,
        "loss_per_hour": page.loss_per_hour,
        "opened_at": page.opened_at.to_string(),
        "person": page.person.as_str(),
        "reason": page.reason,
        "acknowledge_url": page.ack_link,
    })
}

fn summary_title(count: usize) -> String {
    if count == 1 {
        "Stopline: 1 more page (rate limit reached)".to_owned()
    } else {
        format!("Stopline: {count} pages (rate limit reached)")
    }
}

/// Slack reads `<…>` as a link and `&` as an entity: written as entities, they are text.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(link: Option<&str>) -> PageText {
        PageText {
            incident: IncidentId(12),
            summary: "Payment Gateway: HighErrorRate".to_owned(),
            team: "Payments".to_owned(),
            severity: "major".to_owned(),
            loss_per_hour: Some("GBP 780,000/h".to_owned()),
            opened_at: "2026-12-04T03:00:00Z".parse().unwrap(),
            person: PersonId::new("aisha").unwrap(),
            person_name: "Aisha Khan".to_owned(),
            reason: "primary on payments-oncall".to_owned(),
            ack_link: link.map(str::to_owned),
        }
    }

    #[test]
    fn an_email_says_what_why_and_how_to_acknowledge() {
        let message = Message::Page(page(Some("https://s.example.org/v1/ack/T")));
        assert_eq!(message.subject(), "Payment Gateway: HighErrorRate (INC-12)");
        let body = message.body();
        for part in [
            "INC-12",
            "Payments",
            "major",
            "GBP 780,000/h",
            "primary on payments-oncall",
            "https://s.example.org/v1/ack/T",
        ] {
            assert!(body.contains(part), "{part} in {body}");
        }
        let without = Message::Page(page(None)).body();
        assert!(without.contains("stopline ack INC-12"), "{without}");
    }

    #[test]
    fn a_title_cannot_add_lines_or_links() {
        let mut hostile = page(Some("https://s.example.org/v1/ack/T"));
        hostile.summary = "x\r\nBcc: all@example.org <https://evil|click>".to_owned();
        let message = Message::Page(hostile);
        assert!(!message.subject().contains('\n'));
        assert!(!message.body().contains("\r\nBcc"));
        let slack = message.slack().to_string();
        assert!(!slack.contains("<https://evil"), "{slack}");
    }

    #[test]
    fn ntfy_has_a_post_button_and_the_highest_priority() {
        let body = Message::Page(page(Some("https://s.example.org/v1/ack/T"))).ntfy("aisha");
        assert_eq!(body["topic"], "aisha");
        assert_eq!(body["priority"], 5);
        assert_eq!(body["actions"][0]["action"], "http");
        assert_eq!(body["actions"][0]["method"], "POST");
        assert_eq!(body["actions"][0]["url"], "https://s.example.org/v1/ack/T");
    }

    #[test]
    fn a_summary_lists_every_page_it_stands_for() {
        let mut second = page(None);
        second.incident = IncidentId(13);
        let message = Message::Summary(vec![page(None), second]);
        assert_eq!(message.subject(), "Stopline: 2 pages (rate limit reached)");
        assert!(message.body().contains("INC-12") && message.body().contains("INC-13"));
        let json = message.json("k-1", "2026-12-04T03:00:00Z".parse().unwrap());
        assert_eq!(json["type"], "summary");
        assert_eq!(json["pages"].as_array().unwrap().len(), 2);
        assert_eq!(json["idempotency_key"], "k-1");
    }
}
