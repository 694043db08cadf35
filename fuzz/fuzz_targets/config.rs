//! Any text as a config file: a config or problems each placed at a line and column inside the
//! text, never a panic (regexes, time zones, rotas, durations and money included).
#![no_main]

use libfuzzer_sys::fuzz_target;
use stopline_core::config::Config;

fuzz_target!(|text: &str| {
    if let Err(error) = Config::parse("fuzz.toml", text) {
        let lines = text.split('\n').count();
        for problem in &error.problems {
            assert!(
                problem.line >= 1 && problem.line <= lines.max(1),
                "{problem}"
            );
            assert!(problem.column >= 1, "{problem}");
        }
    }
});
