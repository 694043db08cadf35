//! What the workspace's test suites share: real programs started on loopback for them. The
//! architecture tests of `tests/tests` need nothing from here.

pub mod alertmanager;

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
