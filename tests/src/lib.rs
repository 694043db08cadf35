//! What the workspace's test suites share: real programs started on loopback for them, and the
//! example payloads in `tests/fixtures`. The architecture tests of `tests/tests` need nothing
//! from here.

pub mod alertmanager;
pub mod netns;
pub mod postgres;
pub mod year;

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

/// The start of every test workspace's config: the `[workspace]` table (London, pounds) and its
/// people, each `(id, name)` a `[[people]]` entry. Tests add their teams, applications and
/// settings after it.
pub fn workspace_toml(people: &[(&str, &str)]) -> String {
    let mut text = String::from(
        "[workspace]\nname = \"Test\"\ntime_zone = \"Europe/London\"\ncurrency = \"GBP\"\n",
    );
    for (id, name) in people {
        text.push_str(&format!("\n[[people]]\nid = \"{id}\"\nname = \"{name}\""));
    }
    text.push('\n');
    text
}
