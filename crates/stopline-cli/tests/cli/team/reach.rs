//! On loopback: pages beyond the desk sent by the hub. A real SMTP server receives what the
//! hub sends a person with no desktop signed in; the link in it, followed on the hub,
//! acknowledges for every seat; a joined desktop that shows the page within the grace keeps
//! the hub from emailing at all.

use super::*;
use crate::reach::{link_path, through_proxy_to, with_contacts};
use crate::support::SmtpServer;
use stopline_tests::free_port;

/// An organisation whose payments primary has an email contact, and its SMTP server; the hub
/// is started after the config has the contact.
fn org_emailing(paging: &str) -> (Org, SmtpServer, String) {
    let mut org = Org::start(0);
    let primary = payments_primary(&org.sandbox);
    let smtp_port = free_port();
    let smtp = SmtpServer::start(org._pg_dir.path(), smtp_port);
    let config = with_contacts(
        &org.sandbox.read_config(),
        &primary,
        "{ kind = \"email\", to = \"oncall@example.org\" }",
        smtp_port,
        paging,
    );
    org.sandbox.write_config(&config);
    let hub = org.hub(None);
    org.hubs.push(hub);
    (org, smtp, primary)
}

#[test]
fn the_hub_emails_a_person_with_no_desktop_and_the_link_acknowledges_for_everyone() {
    let (org, smtp, primary) = org_emailing("");
    org.alert("HighErrorRate");
    let email = &smtp.wait_for_emails(1)[0];
    assert_eq!(email["subject"], "Payment Gateway: HighErrorRate (INC-1)");
    let body = email["body"].as_str().unwrap();
    assert!(
        body.contains("you are paged as primary on payments-oncall"),
        "{body}"
    );
    org.wait_for_sql(
        "SELECT status FROM contact_messages WHERE incident_id = 1",
        "sent",
    );
    assert!(
        org.sql("SELECT detail FROM timeline WHERE incident_id = 1 AND detail LIKE 'emailed%'")
            .contains("delivered to the SMTP server"),
    );

    // The link, followed on the hub through its public name: the GET changes nothing.
    let path = link_path(body);
    let hub = &org.hubs[0].address;
    let (status, page) = through_proxy_to(hub, "GET", &path);
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        org.sql("SELECT state FROM incidents WHERE id = 1"),
        "triggered"
    );
    let (status, page) = through_proxy_to(hub, "POST", &path.replacen("/1~", "/2~", 1));
    assert_eq!(status, 403, "{page}");
    let (status, page) = through_proxy_to(hub, "POST", &path);
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        org.sql("SELECT state || ' ' || acknowledged_by FROM incidents WHERE id = 1"),
        format!("acknowledged {primary}")
    );
    assert_eq!(
        org.sql("SELECT status FROM escalations WHERE incident_id = 1"),
        "stopped"
    );
    assert_eq!(
        org.sql("SELECT count(*) FROM audit WHERE args->>'via' = 'acknowledge link'"),
        "1"
    );
    let (status, page) = through_proxy_to(hub, "POST", &path);
    assert_eq!(status, 410, "{page}");
    assert!(page.contains("already used"), "{page}");

    // A seat that joins later sees it on the incident's timeline, from the hub.
    let teammate = teammate_of(&primary);
    let mut seat = Desktop::join(&org, 0, teammate);
    seat.serve();
    seat.wait_for("INC-1", |i| {
        i["timeline"].as_array().is_some_and(|t| {
            t.iter().any(|e| {
                e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("acknowledged from the link"))
            })
        })
    });
    assert_eq!(smtp.emails().len(), 1);
}

#[test]
fn a_joined_desktop_that_shows_the_page_within_the_grace_keeps_the_hub_from_emailing() {
    let (org, smtp, primary) = org_emailing("desktop_grace = \"6s\"");
    let mut desk = Desktop::join(&org, 0, &primary);
    desk.serve();
    org.alert("HighErrorRate");
    desk.notifications.wait_for_notifications(1);
    org.wait_for_sql(
        "SELECT status FROM contact_messages WHERE incident_id = 1",
        "not_needed",
    );
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(
        org.sql("SELECT status FROM contact_messages WHERE incident_id = 1"),
        "not_needed"
    );
    assert!(smtp.emails().is_empty());
}

#[test]
fn a_hub_killed_between_queueing_and_sending_leaves_the_email_to_another_once() {
    let (mut org, smtp, primary) = org_emailing("desktop_grace = \"3s\"");
    // Signed in (a token), so the message waits out the grace; the desktop is not running.
    org.token_for(&primary);
    org.alert("HighErrorRate");
    org.wait_for_sql(
        "SELECT status FROM contact_messages WHERE incident_id = 1",
        "waiting",
    );
    drop(org.hubs.remove(0)); // SIGKILL
    std::thread::sleep(Duration::from_secs(4));
    assert!(smtp.emails().is_empty());
    let hub = org.hub(None);
    org.hubs.push(hub);
    smtp.wait_for_emails(1);
    org.wait_for_sql(
        "SELECT status FROM contact_messages WHERE incident_id = 1",
        "sent",
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(smtp.emails().len(), 1);
}
