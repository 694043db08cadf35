//! Any bytes as a Grafana webhook body: refused with a JSON path or parsed, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stopline_engine::payload;

fuzz_target!(|body: &[u8]| {
    if let Ok(alerts) = payload::grafana_webhook(body) {
        for (i, alert) in alerts.iter().enumerate() {
            payload::check_limits(alert, &format!("alerts[{i}]"))
                .expect("a parsed alert is within the limits");
        }
    }
});
