//! Write-back from the hub against a real Alertmanager: a silence per acknowledged alert,
//! extended while the incident stays acknowledged, with time moved rather than waited for.

use std::sync::Arc;
use std::time::Duration;

use jiff::ToSpan;
use serde_json::json;
use stopline_core::clock::{Clock, ManualClock};
use stopline_core::config::{Config, DEMO_CONFIG};
use stopline_core::ids::PersonId;
use stopline_core::mutation::parse_push;
use stopline_core::settings::WriteBack as WriteBackSettings;
use stopline_hub::{AlertmanagerSource, WriteBack};
use stopline_tests::alertmanager::Alertmanager;

use super::intake::{T0, at, observation};
use super::migrated;

#[tokio::test(flavor = "multi_thread")]
async fn a_silence_is_made_once_and_extended_while_the_incident_stays_acknowledged() {
    let (dir, postgres, db) = migrated().await;
    let alertmanager =
        Alertmanager::start(&dir.path().join("am"), stopline_tests::free_port(), None);
    let source = AlertmanagerSource {
        name: "am".into(),
        urls: vec![alertmanager.url()],
        poll_interval: Duration::from_secs(15),
        bearer_token: None,
        write_back: Some(WriteBackSettings {
            silence_duration: Duration::from_secs(2 * 3600),
        }),
    };
    // Alertmanager judges a silence by its own clock: the worker's starts at the real now.
    let start = jiff::Timestamp::now();
    let clock = Arc::new(ManualClock::new(start));
    let worker = WriteBack {
        database: db.clone(),
        sources: vec![source],
        clock: Arc::clone(&clock) as Arc<dyn Clock>,
    };
    db.set_write_back(&[("am".into(), Duration::from_secs(2 * 3600))])
        .await
        .unwrap();
    // The intake tests' alert comes from source "am".
    db.ingest(&[observation("Down", true, true, at(T0))], true, at(T0))
        .await
        .unwrap();
    let ack = json!({"desktop_id": "ben-1", "mutations": [
        {"id": 1, "name": "acknowledge", "args": {"incident": "INC-1"}, "at": T0}]});
    let config = Config::parse("demo.toml", DEMO_CONFIG).unwrap();
    db.push(
        Some(&config),
        &PersonId::new("ben").unwrap(),
        &parse_push(ack.to_string().as_bytes()).unwrap(),
        at(T0),
    )
    .await
    .unwrap();

    let client = stopline_alertmanager_client();
    worker.round(&client).await.unwrap();
    worker.round(&client).await.unwrap();
    let silences = alertmanager.silences();
    assert_eq!(silences.len(), 1, "one silence, however many rounds");
    assert!(
        silences[0]["comment"]
            .as_str()
            .unwrap()
            .contains("acknowledged by ben")
    );
    let first_end = postgres.psql("hub", "SELECT ends_at FROM silences");

    // An hour and a quarter on, less than half its two hours are left: it is extended.
    clock.set(start.checked_add(75.minutes()).unwrap());
    worker.round(&client).await.unwrap();
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT count(*) FROM outbox WHERE action = 'extend' AND status = 'sent'"
        ),
        "1"
    );
    assert_ne!(
        postgres.psql("hub", "SELECT ends_at FROM silences"),
        first_end
    );
    assert_eq!(
        alertmanager.silences().len(),
        1,
        "the same silence, extended"
    );
}

fn stopline_alertmanager_client() -> stopline_hub::AlertmanagerClient {
    stopline_hub::AlertmanagerClient::new().unwrap()
}
