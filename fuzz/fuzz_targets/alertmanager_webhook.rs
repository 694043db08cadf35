//! Any bytes as an Alertmanager webhook body: refused with a JSON path or parsed, never a panic,
//! and what parses stays within the documented limits on alert text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stopline_engine::payload;

fuzz_target!(|body: &[u8]| {
    if let Ok(alerts) = payload::alertmanager_webhook(body) {
        for (i, alert) in alerts.iter().enumerate() {
            payload::check_limits(alert, &format!("alerts[{i}]"))
                .expect("a parsed alert is within the limits");
        }
    }
});
