//! The hubs away for five minutes of scripted incidents (scenario 3 of the team tests), across
//! network namespaces: PostgreSQL, two hubs, a real Alertmanager and three desktops, each on a
//! host of its own on a LAN with no default route (`stopline_tests::netns`).
//!
//! The script: both hubs stop; two teams' alerts fire at the Alertmanager, which every desktop
//! then polls on its own, a third midway, and Prometheus-like re-sends keep them firing. Each
//! desktop pages only its own person; the on-call people acknowledge (written back as Stopline
//! silences, which a teammate's desktop takes as "acknowledged elsewhere"); everyone keeps
//! writing notes every half minute. When the hubs return, the provisional incidents merge into
//! the hubs', each queue drains in the order its actions were taken, nobody is notified twice
//! for one incident step, and every seat shows the same incidents. `STOPLINE_OUTAGE_SECS`
//! shortens the outage when working on this test; the suite runs the full five minutes.

use super::*;

/// Who is primary on `team`'s rota right now, by the CLI's own account.
fn primary_of(org: &Sandbox, team: &str) -> String {
    let oncall = org.json(&["oncall", "--team", team]);
    oncall["rotas"][0]["layers"][0]["now"]["person"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The one incident on `desktop` for `application`, once it has one.
fn incident_for(desktop: &Desktop, application: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listed = desktop.json(&["incidents", "--state", "all"]);
        let ids: Vec<String> = listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["application"] == application)
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        if let [one] = ids.as_slice() {
            return one.clone();
        }
        assert!(
            ids.len() <= 1,
            "{} has {ids:?} for {application}",
            desktop.person
        );
        assert!(
            Instant::now() < deadline,
            "no incident for {application} on {}'s desktop",
            desktop.person
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The notes `who` wrote on a shown incident, in timeline order.
fn notes_of(incident: &Value, who: &str) -> Vec<String> {
    incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "note" && e["who"] == who)
        .filter_map(|e| e["detail"].as_str())
        .filter(|d| d.starts_with("outage note"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn five_minutes_without_the_hubs_each_desktop_pages_its_own_person_and_every_queue_drains_in_order()
{
    let outage = Duration::from_secs(
        std::env::var("STOPLINE_OUTAGE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300),
    );
    let Some(mut lan) = Lan::new() else { return };
    let am_host = lan.host("am");
    let am_dir = tempfile::tempdir().unwrap();
    let alertmanager = stopline_tests::alertmanager::Alertmanager::start_in(
        am_dir.path(),
        &am_host.namespace,
        &am_host.address,
        9093,
    );
    let mut org = LanOrg::start(
        &mut lan,
        2,
        &format!(
            "\n[hub]\ndegraded_after = \"2s\"\n\n[[sources]]\nname = \"prod-am\"\nkind = \"alertmanager\"\nurls = [\"{}\"]\npoll_interval = \"1s\"\nwrite_back = true\nsilence_duration = \"2h\"\n",
            alertmanager.url()
        ),
    );
    let payments = primary_of(&org.sandbox, "payments");
    let teammate = teammate_of(&payments);
    let orders = primary_of(&org.sandbox, "orders");
    // Each desktop on a host of its own, joined to one hub or the other.
    let mut desktops: Vec<Desktop> = [payments.as_str(), teammate, orders.as_str()]
        .into_iter()
        .enumerate()
        .map(|(i, person)| org.desktop(&mut lan, i % 2, person))
        .collect();
    for desktop in &mut desktops {
        desktop.serve();
    }
    let (pay, mate, ord) = (&desktops[0], &desktops[1], &desktops[2]);

    // Both hubs stop; after `degraded_after` every desktop polls the Alertmanager itself.
    org.hubs.clear();
    for desktop in &desktops {
        desktop
            .served
            .as_ref()
            .unwrap()
            .wait_for_log("pages its own person until it returns");
    }
    let started = Instant::now();
    let gateway = [("service", "payment-gateway")];
    let order_service = [("service", "order-service")];
    let refunds = [("service", "refunds")];
    let fire = |with_refunds: bool| {
        alertmanager.post_alert_with("GatewayDown", &gateway, None);
        alertmanager.post_alert_with("OrdersDown", &order_service, None);
        if with_refunds {
            alertmanager.post_alert_with("RefundsStuck", &refunds, None);
        }
    };
    fire(false);

    // The on-call people are paged on their own desktops and acknowledge there.
    let gateway_here = incident_for(pay, "payment-gateway");
    pay.notifications.wait_for_notifications(1);
    pay.ok(&["ack", &gateway_here, "--as", &payments]);
    let orders_here = incident_for(ord, "order-service");
    ord.notifications.wait_for_notifications(1);
    ord.ok(&["ack", &orders_here, "--as", &orders]);

    // The script: notes from everyone every 30 s, re-sends every 20 s, refunds stuck midway.
    let mut sent: Vec<(String, &str, String)> = Vec::new(); // (person, application, text)
    let mut next_note = Duration::ZERO;
    let mut next_fire = Duration::from_secs(20);
    let mut refunds_fired = false;
    let mut round = 0;
    while started.elapsed() < outage {
        let now = started.elapsed();
        if !refunds_fired && now >= outage / 2 {
            refunds_fired = true;
            fire(true);
            let refunds_here = incident_for(pay, "refunds");
            pay.notifications.wait_for_notifications(2);
            pay.ok(&["ack", &refunds_here, "--as", &payments]);
        }
        if now >= next_fire {
            fire(refunds_fired);
            next_fire += Duration::from_secs(20);
        }
        if now >= next_note {
            round += 1;
            for (desktop, application) in [
                (pay, "payment-gateway"),
                (mate, "payment-gateway"),
                (ord, "order-service"),
            ] {
                let id = incident_for(desktop, application);
                let text = format!("outage note {round} from {}", desktop.person);
                desktop.ok(&["note", &id, &text, "--as", &desktop.person]);
                sent.push((desktop.person.clone(), application, text));
            }
            next_note += Duration::from_secs(30);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    // Meanwhile the teammate's desktop took the on-call person's silence as "acknowledged
    // elsewhere", and stopped escalating.
    let mates_copy = mate.incident(&incident_for(mate, "payment-gateway"));
    assert_eq!(mates_copy["state"], "acknowledged", "{mates_copy:#}");
    assert!(
        mates_copy["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["detail"]
                .as_str()
                .is_some_and(|d| d.contains("acknowledged elsewhere"))),
        "{mates_copy:#}"
    );
    for desktop in &desktops {
        assert!(desktop.status()["hub"]["actions_waiting"].as_u64().unwrap() > 0);
    }

    // The hubs return on their hosts. The provisional incidents merge into the hubs', the
    // queues drain, and every seat ends with the hubs' three incidents.
    org.start_hubs();
    org.wait_for_sql("SELECT count(*) FROM incidents", "3");
    let ids: Vec<String> = org
        .sql("SELECT string_agg('INC-' || id, ',' ORDER BY id DESC) FROM incidents")
        .split(',')
        .map(str::to_owned)
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    for desktop in &desktops {
        desktop.wait_for_ids(&ids);
        desktop.wait_drained();
    }
    for id in &ids {
        org.wait_for_sql(
            &format!(
                "SELECT state FROM incidents WHERE id = {}",
                id.trim_start_matches("INC-")
            ),
            "acknowledged",
        );
    }

    // Each queue reached the hub in the order its actions were taken, each action once.
    let order = org.sql(
        "SELECT bool_and(in_order) || ' ' || count(*) FROM
           (SELECT mutation_id > coalesce(lag(mutation_id) OVER (PARTITION BY desktop_id ORDER BY id), 0)
                   AS in_order
            FROM audit WHERE desktop_id IS NOT NULL AND name <> 'page_shown') AS pushed",
    );
    let acks = 3;
    assert_eq!(order, format!("true {}", sent.len() + acks), "{order}");
    // Every note is on the hubs' incident for its alerts, in the order written.
    let on_hub = |application: &str| {
        let id = incident_for(&desktops[2], application);
        desktops[2].incident(&id)
    };
    for person in [payments.as_str(), teammate, orders.as_str()] {
        for application in ["payment-gateway", "order-service"] {
            let expected: Vec<String> = sent
                .iter()
                .filter(|(p, a, _)| p == person && *a == application)
                .map(|(_, _, text)| text.clone())
                .collect();
            assert_eq!(
                notes_of(&on_hub(application), person),
                expected,
                "{person}'s notes on {application}"
            );
        }
    }

    // Nobody was notified twice for one incident step: the on-call person of payments once for
    // each of its two incidents, of orders once, the teammate never.
    std::thread::sleep(Duration::from_secs(2));
    let summaries = |desktop: &Desktop| -> Vec<String> {
        let mut shown: Vec<String> = desktop
            .notifications
            .notifications()
            .iter()
            .filter_map(|n| n["summary"].as_str().map(str::to_owned))
            .collect();
        shown.sort();
        shown
    };
    let paid = summaries(pay);
    assert_eq!(paid.len(), 2, "{paid:#?}");
    assert!(
        paid[0].starts_with("Payment Gateway: GatewayDown"),
        "{paid:#?}"
    );
    assert!(paid[1].starts_with("Refunds: RefundsStuck"), "{paid:#?}");
    let ordered = summaries(ord);
    assert_eq!(ordered.len(), 1, "{ordered:#?}");
    assert!(
        ordered[0].starts_with("Order Service: OrdersDown"),
        "{ordered:#?}"
    );
    assert!(summaries(mate).is_empty(), "{:#?}", summaries(mate));

    // Every seat shows what the hubs hold.
    for id in &ids {
        let hub = shared(&desktops[2].incident(id));
        for desktop in &desktops[..2] {
            assert_eq!(
                shared(&desktop.incident(id)),
                hub,
                "{id} on {}",
                desktop.person
            );
        }
    }
    drop(desktops);
}
