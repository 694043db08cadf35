//! Config check benchmark (`make bench`): `Config::parse` (TOML, every cross-check, every
//! problem placed at its line) on the demo workspace plus 1,000 and plus 10,000 generated
//! applications. Prints the median of several runs and the ratio of the two: near 10 means
//! the check grows linearly with the file. Target: 10,000 applications well under a second.
//! Never run by `make test`.

use std::time::{Duration, Instant};

use stopline_core::config::{Config, DEMO_CONFIG};

const RUNS: usize = 5;

fn with_applications(count: usize) -> String {
    let mut text = DEMO_CONFIG.to_owned();
    for i in 0..count {
        text.push_str(&format!(
            "\n[[applications]]\nid = \"gen-app-{i}\"\nname = \"Generated app {i}\"\nteam = \"payments\"\n\
             availability_target = 99.5\nexposure_per_hour = 1000\ndeploys = \"daily\"\n\
             match = {{ service = \"gen-app-{i}\" }}\njourneys = [\"gen journey {i}\"]\n"
        ));
    }
    text
}

fn median_parse(text: &str) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let config = Config::parse("bench.toml", text).expect("the generated config is valid");
            let elapsed = started.elapsed();
            std::hint::black_box(config);
            elapsed
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn main() {
    let small = with_applications(1_000);
    let large = with_applications(10_000);
    let small_time = median_parse(&small);
    let large_time = median_parse(&large);
    println!(
        "config check, +1,000 applications ({} KiB): median {:.1} ms of {RUNS}",
        small.len() / 1024,
        small_time.as_secs_f64() * 1e3
    );
    println!(
        "config check, +10,000 applications ({} KiB): median {:.1} ms of {RUNS}",
        large.len() / 1024,
        large_time.as_secs_f64() * 1e3
    );
    println!(
        "ratio 10,000 / 1,000: {:.1} (10 is linear)",
        large_time.as_secs_f64() / small_time.as_secs_f64()
    );
}
