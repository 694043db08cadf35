//! Any bytes as a PagerDuty Events v2 body: refused with a JSON path or parsed, never a panic;
//! a parsed trigger stays within the limits on alert text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stopline_engine::payload::{self, PagerDutyEvent};

fuzz_target!(|body: &[u8]| {
    let now = jiff::Timestamp::from_second(1_795_000_000).expect("a valid instant");
    if let Ok(event) = payload::pagerduty_event(body, now) {
        assert!(!event.routing_key.trim().is_empty());
        if let PagerDutyEvent::Trigger(alert) = &event.event {
            payload::check_limits(alert, "payload").expect("a parsed trigger is within the limits");
        }
    }
});
