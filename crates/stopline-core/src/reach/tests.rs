//! Contacts from the config (and every mistake at its place), when a page goes to them, and
//! the rate rule.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::config::Config;

const BASE: &str = r#"
[workspace]
name = "Acme"
time_zone = "Europe/London"
currency = "GBP"

[smtp]
host = "127.0.0.1"
port = 2525
security = "none"
from = "Stopline <stopline@example.org>"

[paging]
desktop_grace = "45s"
ack_url_base = "https://stopline.example.org"
rate_limit = { messages = 5, per = "10m" }

[[people]]
id = "aisha"
name = "Aisha"
contacts = [
  { kind = "email", to = "aisha@example.org" },
  { kind = "webhook", url = "https://ntfy.example.org/aisha", format = "ntfy", token_env = "NTFY_TOKEN" },
  { kind = "webhook", url_env = "AISHA_SLACK", format = "slack" },
]
contacts_first_out_of_hours = true

[[people]]
id = "ben"
name = "Ben"
"#;

fn problems(text: &str) -> Vec<String> {
    Config::parse("stopline.toml", text)
        .unwrap_err()
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn contacts_paging_and_smtp_read_as_written() {
    let config = Config::parse("stopline.toml", BASE).unwrap();
    let aisha = &config.people[0];
    assert_eq!(aisha.contacts.len(), 3);
    assert_eq!(aisha.contacts[0].key(), "email:aisha@example.org");
    assert_eq!(aisha.contacts[1].channel(), "ntfy");
    // The key names the URL by a digest: a URL may be a secret, and keys are stored.
    assert!(aisha.contacts[1].key().starts_with("ntfy:"));
    assert!(!aisha.contacts[1].key().contains("ntfy.example.org"));
    assert_eq!(aisha.contacts[1].address(), "ntfy.example.org");
    assert_eq!(aisha.contacts[2].key(), "slack:env:AISHA_SLACK");
    assert_eq!(
        aisha.contacts[2].address(),
        "the URL in environment variable AISHA_SLACK"
    );
    assert!(aisha.contacts_first_out_of_hours);
    assert!(config.people[1].contacts.is_empty());
    assert_eq!(config.paging.desktop_grace, Duration::from_secs(45));
    assert_eq!(config.paging.rate_limit.messages, 5);
    let smtp = config.smtp.unwrap();
    assert_eq!((smtp.port, smtp.security), (2525, SmtpSecurity::None));

    let defaults = Config::parse(
        "stopline.toml",
        "[workspace]\nname = \"A\"\ntime_zone = \"UTC\"\ncurrency = \"GBP\"\n",
    )
    .unwrap();
    assert_eq!(defaults.paging, PagingSettings::default());
    assert_eq!(defaults.paging.desktop_grace, Duration::from_secs(30));
    assert_eq!(defaults.smtp, None);
}

#[test]
fn bad_contacts_are_named_at_their_place() {
    let bad = BASE
        .replace("aisha@example.org", "aisha.example.org")
        .replace(
            "https://ntfy.example.org/aisha",
            "http://ntfy.example.org/aisha",
        )
        .replace("format = \"slack\"", "format = \"teams\"");
    let found = problems(&bad);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].starts_with("stopline.toml:22:26:"), "{found:#?}");
    assert!(
        found[0].contains("people[0].contacts[0].to"),
        "{}",
        found[0]
    );
    assert!(found[0].contains("not an email address"), "{}", found[0]);
    assert!(
        found[1].contains("people[0].contacts[1].url"),
        "{}",
        found[1]
    );
    assert!(found[1].contains("use https"), "{}", found[1]);
    assert!(
        found[2].contains("people[0].contacts[2].format"),
        "{}",
        found[2]
    );

    // Plain http to this machine is fine: a relay or gateway beside the engine.
    let local = BASE.replace(
        "https://ntfy.example.org/aisha",
        "http://127.0.0.1:8080/aisha",
    );
    assert!(Config::parse("stopline.toml", &local).is_ok());

    let no_smtp = BASE.replace("[smtp]", "[unused]");
    assert!(
        problems(&no_smtp)
            .iter()
            .any(|p| p.contains("unknown field"))
    );
    let without_smtp = {
        let start = BASE.find("[smtp]").unwrap();
        let end = BASE.find("[paging]").unwrap();
        format!("{}{}", &BASE[..start], &BASE[end..])
    };
    let found = problems(&without_smtp);
    assert!(
        found
            .iter()
            .any(|p| p.contains("an email contact needs [smtp]")),
        "{found:#?}"
    );
}

#[test]
fn smtp_without_encryption_is_for_a_local_relay_only() {
    let found = problems(&BASE.replace("host = \"127.0.0.1\"", "host = \"mail.example.org\""));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("smtp.security"), "{}", found[0]);
    let found = problems(&BASE.replace("security = \"none\"", "security = \"ssl\""));
    assert!(found[0].contains("expected \"starttls\", \"tls\" or \"none\""));
    let found = problems(&BASE.replace("port = 2525", "port = 70000"));
    assert!(found[0].contains("smtp.port"));
    let found = problems(&BASE.replace(
        "from = \"Stopline <stopline@example.org>\"",
        "from = \"Stopline\"",
    ));
    assert!(found[0].contains("smtp.from"));
    let found = problems(&BASE.replace("port = 2525", "port = 2525\nusername = \"relay\""));
    assert!(
        found[0].contains("a username needs a password"),
        "{found:#?}"
    );
}

#[test]
fn email_addresses_are_checked_as_relays_take_them() {
    for good in [
        "a@example.org",
        "first.last+tag@sub.example.co.uk",
        "root@localhost",
    ] {
        assert!(is_email_address(good), "{good}");
    }
    for bad in [
        "",
        "a",
        "@example.org",
        "a@",
        "a@example",
        "a b@example.org",
        "a@-x.org",
        "a@exa mple.org",
        "<a@example.org>",
    ] {
        assert!(!is_email_address(bad), "{bad}");
    }
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

#[test]
fn a_page_waits_for_the_desktop_unless_nobody_is_at_one() {
    let config = Config::parse("stopline.toml", BASE).unwrap();
    let aisha = "aisha".parse().unwrap();
    // Thursday 10:00 in London: working hours.
    let in_hours = at("2026-12-03T10:00:00Z");
    let held = plan(&config, &aisha, in_hours, true);
    assert_eq!(held.len(), 3);
    assert!(
        held.iter()
            .all(|m| m.hold_until == in_hours + SignedDuration::from_secs(45))
    );
    let at_once = plan(&config, &aisha, in_hours, false);
    assert!(at_once.iter().all(|m| m.hold_until == in_hours));
    // 03:00: out of hours, and she asked for her contacts first then.
    let night = at("2026-12-04T03:00:00Z");
    assert!(
        plan(&config, &aisha, night, true)
            .iter()
            .all(|m| m.hold_until == night)
    );
    // Ben has no contacts; an unknown person has none either.
    assert!(plan(&config, &"ben".parse().unwrap(), night, false).is_empty());
    assert!(plan(&config, &"zed".parse().unwrap(), night, false).is_empty());
}

#[test]
fn a_flood_becomes_one_summary_and_the_limit_holds() {
    let limit = RateLimit {
        messages: 5,
        per: Duration::from_secs(600),
    };
    let now = at("2026-12-04T03:00:00Z");
    let minutes_ago = |m: i64| now - SignedDuration::from_mins(m);
    // Room for each, with a place to spare.
    assert_eq!(batch(&[], 4, limit, now), Batch::Each);
    // Thirty at once: one summary.
    assert_eq!(batch(&[], 30, limit, now), Batch::Summary);
    // Four sent lately: the fifth place goes to a summary, even of one.
    let four = [
        minutes_ago(9),
        minutes_ago(5),
        minutes_ago(3),
        minutes_ago(1),
    ];
    assert_eq!(batch(&four, 1, limit, now), Batch::Summary);
    // Five sent: wait until the oldest leaves the window.
    let five = [
        minutes_ago(9),
        minutes_ago(8),
        minutes_ago(5),
        minutes_ago(3),
        minutes_ago(1),
    ];
    assert_eq!(
        batch(&five, 3, limit, now),
        Batch::Wait {
            until: minutes_ago(9) + SignedDuration::from_mins(10)
        }
    );
    // Messages older than the window do not count.
    let old = [
        minutes_ago(30),
        minutes_ago(20),
        minutes_ago(11),
        minutes_ago(11),
        minutes_ago(11),
    ];
    assert_eq!(batch(&old, 2, limit, now), Batch::Each);
}

#[test]
fn a_url_never_shows_its_credentials_and_the_file_refuses_them() {
    assert_eq!(
        url_host("https://user:secret@ntfy.example.org/a"),
        "ntfy.example.org"
    );
    assert_eq!(url_host("http://127.0.0.1:8080/x?y"), "127.0.0.1:8080");
    let found = problems(&BASE.replace(
        "https://ntfy.example.org/aisha",
        "https://aisha:hunter2@ntfy.example.org/aisha",
    ));
    assert!(found[0].contains("user name or password"), "{found:#?}");
    assert!(check_webhook_url("https://hooks.example.org/T/B/X").is_ok());
    assert!(check_webhook_url("http://127.0.0.1:9/x").is_ok());
    assert!(check_webhook_url("http://hooks.example.org/x").is_err());
    assert!(check_webhook_url("hooks.example.org").is_err());
}

#[test]
fn loopback_hosts_are_recognised_with_or_without_a_port() {
    for local in [
        "localhost",
        "127.0.0.1",
        "127.0.0.1:2525",
        "[::1]:8080",
        "::1",
        "LOCALHOST:25",
    ] {
        assert!(is_loopback_host(local), "{local}");
    }
    for remote in [
        "example.org",
        "10.0.0.1:25",
        "[2001:db8::1]:443",
        "localhost.example.org",
    ] {
        assert!(!is_loopback_host(remote), "{remote}");
    }
}
