//! What the workspace's test suites share: real programs started on loopback for them, and the
//! example payloads in `tests/fixtures`. The architecture tests of `tests/tests` need nothing
//! from here.

pub mod alertmanager;

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An example payload from `tests/fixtures` (see its README), as bytes. Tests read them from the
/// repository itself, so a clone with nothing beside it has everything they need.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
