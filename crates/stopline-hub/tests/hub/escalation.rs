//! Escalation on the hub: every hub runs it, and a due step is claimed by one.

use jiff::{Timestamp, ToSpan};
use stopline_core::config::{Config, DEMO_CONFIG};
use stopline_core::routing::AlertObservation;
use stopline_hub::Database;

use super::intake::{T0, at, observation};
use super::migrated;

#[tokio::test(flavor = "multi_thread")]
async fn three_hubs_escalating_500_incidents_at_once_page_each_person_once_per_step() {
    let (_dir, postgres, first_hub) = migrated().await;
    let config = Config::parse("demo.toml", DEMO_CONFIG).unwrap();
    // Thursday 10:00 in London: working hours, so the payment gateway pages at once.
    let t0 = at(T0);
    let incidents = 500;
    let batch: Vec<AlertObservation> = (0..incidents)
        .map(|n| {
            let mut alert = observation(&format!("Alert{n}"), true, true, t0);
            alert.group_key = Some(format!("group-{n}"));
            alert
        })
        .collect();
    let opened = first_hub.ingest(&batch, true, t0).await.unwrap().opened;
    assert_eq!(opened.len(), incidents);
    let hubs = [
        first_hub.clone(),
        Database::new(&postgres.url("hub")).unwrap(),
        Database::new(&postgres.url("hub")).unwrap(),
    ];
    let pass = |now: Timestamp| {
        let config = config.clone();
        let hubs = hubs.clone();
        async move {
            let runs: Vec<_> = hubs
                .into_iter()
                .map(|hub| {
                    let config = config.clone();
                    tokio::spawn(async move { hub.escalate(&config, now).await.unwrap() })
                })
                .collect();
            let mut pages = 0;
            for run in runs {
                pages += run.await.unwrap().pages;
            }
            pages
        }
    };
    let paged = pass(t0).await;
    let recorded: usize = postgres
        .psql("hub", "SELECT count(*) FROM pages")
        .parse()
        .unwrap();
    assert!(
        recorded >= incidents,
        "every incident paged someone: {recorded}"
    );
    assert_eq!(paged, recorded, "no hub counted a page another recorded");
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT count(*) FROM (SELECT incident_id FROM timeline WHERE kind = 'paging'
             GROUP BY incident_id HAVING count(*) <> 1) AS twice"
        ),
        "0",
        "each incident's first step is on its timeline once"
    );
    // Again at once: nothing more is due.
    assert_eq!(pass(t0).await, 0);
    // After the acknowledgement timeout the next step pages, once, from whichever hub.
    let later = t0 + 1.hours();
    let next = pass(later).await;
    assert!(next > 0);
    let total: usize = postgres
        .psql("hub", "SELECT count(*) FROM pages")
        .parse()
        .unwrap();
    assert_eq!(total, recorded + next);
    assert_eq!(
        postgres.psql("hub", "SELECT count(DISTINCT step) FROM pages"),
        "2"
    );
}
