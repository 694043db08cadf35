//! Failed authentications at the webhook, per client address: each is counted, logged at most
//! once per address every [`LOG_EVERY`] (a guessing client must not flood the log either), and
//! after [`FREE_FAILURES`] within a [`WINDOW`] every further failure from that address is
//! answered only after a delay that doubles each time, up to [`MAX_DELAY`]. A correct token is
//! never delayed, so a sender sharing the address with a guesser (everything on loopback does)
//! keeps delivering.
//!
//! Time is passed in (`now`), so the rules are tested by moving it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failures counted together: a client that stops guessing for this long starts afresh.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Failures from one address answered at once within a window (a typo, a rotated token).
pub const FREE_FAILURES: u32 = 5;
/// The first delay, doubled with each further failure.
pub const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest delay: long enough to make guessing useless, short enough not to pile up
/// connections (each waits holding one).
pub const MAX_DELAY: Duration = Duration::from_secs(5);
/// One log line per address at most this often.
pub const LOG_EVERY: Duration = Duration::from_secs(10);
/// Addresses remembered at most; beyond it, the stalest are forgotten.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Record {
    window_start: Instant,
    failures: u32,
    last_logged: Option<Instant>,
}

/// What to do about one failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Failures from this address in the current window, this one included.
    pub failures: u32,
    /// How long to wait before answering.
    pub delay: Duration,
    /// Whether to log this one (false while the address was logged recently).
    pub log: bool,
}

/// Failures by client address.
#[derive(Debug, Default)]
pub struct AuthFailures {
    by_address: HashMap<IpAddr, Record>,
}

impl AuthFailures {
    /// Counts a failed authentication from `address` at `now`. IPv6 clients are counted by
    /// their /64 network: one host commonly has a whole /64 to pick addresses from.
    pub fn record(&mut self, address: IpAddr, now: Instant) -> Verdict {
        let address = counted_as(address);
        if self.by_address.len() >= MAX_ADDRESSES && !self.by_address.contains_key(&address) {
            self.forget_stale(now);
        }
        let record = self.by_address.entry(address).or_insert(Record {
            window_start: now,
            failures: 0,
            last_logged: None,
        });
        if now.duration_since(record.window_start) >= WINDOW {
            record.window_start = now;
            record.failures = 0;
        }
        record.failures = record.failures.saturating_add(1);
        let log = record
            .last_logged
            .is_none_or(|at| now.duration_since(at) >= LOG_EVERY);
        if log {
            record.last_logged = Some(now);
        }
        Verdict {
            failures: record.failures,
            delay: delay_after(record.failures),
            log,
        }
    }

    /// Drops addresses whose window has passed; if none has, the oldest half.
    fn forget_stale(&mut self, now: Instant) {
        self.by_address
            .retain(|_, r| now.duration_since(r.window_start) < WINDOW);
        if self.by_address.len() >= MAX_ADDRESSES {
            let mut starts: Vec<Instant> =
                self.by_address.values().map(|r| r.window_start).collect();
            starts.sort();
            let cutoff = starts[starts.len() / 2];
            self.by_address.retain(|_, r| r.window_start > cutoff);
        }
    }
}

/// The address failures are counted under: an IPv4 address itself, an IPv6 address's /64.
fn counted_as(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(network))
            }
        },
    }
}

/// The delay for the `failures`-th failure in a window.
fn delay_after(failures: u32) -> Duration {
    if failures <= FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES - 1).min(16);
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_failures_from_one_address_are_slowed_and_logged_sparingly() {
        let mut failures = AuthFailures::default();
        let guesser: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.7".parse().unwrap();
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);

        let verdicts: Vec<Verdict> = (0..10)
            .map(|i| failures.record(guesser, at(i * 10)))
            .collect();
        let delays: Vec<u64> = verdicts
            .iter()
            .map(|v| v.delay.as_millis() as u64)
            .collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 250, 500, 1000, 2000, 4000]);
        assert_eq!(verdicts[9].failures, 10);
        assert_eq!(failures.record(guesser, at(200)).delay, MAX_DELAY);
        // Logged once, not ten times, within LOG_EVERY...
        assert_eq!(verdicts.iter().filter(|v| v.log).count(), 1);
        // ...and again once it has passed.
        assert!(failures.record(guesser, at(10_500)).log);

        // Another address is counted on its own.
        assert_eq!(failures.record(other, at(300)).delay, Duration::ZERO);

        // Addresses of one IPv6 /64 are one client.
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_network: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        for _ in 0..5 {
            failures.record(one, at(400));
        }
        assert_eq!(failures.record(same_network, at(401)).failures, 6);

        // A guesser that pauses for a window starts afresh.
        let later = failures.record(guesser, at(10_500) + WINDOW);
        assert_eq!((later.failures, later.delay), (1, Duration::ZERO));
    }

    #[test]
    fn memory_stays_bounded() {
        let mut failures = AuthFailures::default();
        let start = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 500) {
            let address = IpAddr::from(i.to_be_bytes());
            failures.record(address, start + Duration::from_millis(u64::from(i)));
        }
        assert!(failures.by_address.len() <= MAX_ADDRESSES);
    }
}
