//! Any text in the label grammar (`service=checkout-api, env="prod eu"`): labels or an error
//! naming the bad pair, never a panic; labels that parse route through the demo workspace's
//! application mapping (its equality and regex matchers) without a panic either.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stopline_core::config::{Config, DEMO_CONFIG};
use stopline_core::desk::parse_labels;

fn demo() -> &'static Config {
    static DEMO: OnceLock<Config> = OnceLock::new();
    DEMO.get_or_init(|| Config::parse("demo.toml", DEMO_CONFIG).expect("the demo config is valid"))
}

fuzz_target!(|text: &str| {
    if let Ok(labels) = parse_labels(text) {
        let _ = demo().mapping().route_labels(&labels);
        let _ = demo().mapping().route_journey(text);
    }
});
