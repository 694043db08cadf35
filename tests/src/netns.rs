//! Several hosts on one machine, for the team hub's tests: each host is a network namespace with
//! a veth pair to a bridge in a namespace of its own (the LAN), an address `10.77.0.N/24`, and
//! no default route, so nothing leaves the machine. A partition takes a host's port on the
//! bridge down (`ip link set … down`); healing brings it up. Everything is removed when the LAN
//! is dropped. Needs root (CI runs as root), and `ip` from iproute2.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// Numbers namespaces apart across the tests of one process.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// A bridge and the hosts on it.
#[derive(Debug)]
pub struct Lan {
    /// Unique to this LAN: the namespaces' prefix.
    tag: String,
    hosts: Vec<Host>,
}

/// One host: a namespace and its address on the LAN.
#[derive(Debug, Clone)]
pub struct Host {
    pub namespace: String,
    pub address: String,
    /// The host's port on the bridge (in the LAN's namespace).
    port: String,
}

fn ip(args: &[&str]) -> Output {
    let output = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("ip {args:?}: {e}: install iproute2 (scripts/setup)"));
    assert!(
        output.status.success(),
        "ip {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

impl Lan {
    /// A new LAN; `None` (saying why on stderr) when this process cannot make namespaces.
    pub fn new() -> Option<Lan> {
        if !rustix::process::geteuid().is_root() {
            eprintln!(
                "network namespaces need root (CI runs as root): this test checks nothing here"
            );
            return None;
        }
        let tag = format!(
            "sl{}x{}",
            std::process::id() % 100_000,
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let lan = Lan {
            tag,
            hosts: Vec::new(),
        };
        let ns = lan.lan_namespace();
        ip(&["netns", "add", &ns]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        ip(&["-n", &ns, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &ns, "link", "set", "br0", "up"]);
        Some(lan)
    }

    fn lan_namespace(&self) -> String {
        format!("{}-lan", self.tag)
    }

    /// Adds a host, named `name` (letters, at most 6), on the next address.
    pub fn host(&mut self, name: &str) -> Host {
        let n = self.hosts.len() + 1;
        let namespace = format!("{}-{name}", self.tag);
        // Interface names are at most 15 bytes.
        let (inside, port) = (format!("v{n}"), format!("p{}{n}", &self.tag[2..]));
        let address = format!("10.77.0.{n}");
        ip(&["netns", "add", &namespace]);
        ip(&["-n", &namespace, "link", "set", "lo", "up"]);
        ip(&[
            "link",
            "add",
            &inside,
            "netns",
            &namespace,
            "type",
            "veth",
            "peer",
            "name",
            &port,
            "netns",
            &self.lan_namespace(),
        ]);
        ip(&[
            "-n",
            &namespace,
            "addr",
            "add",
            &format!("{address}/24"),
            "dev",
            &inside,
        ]);
        ip(&["-n", &namespace, "link", "set", &inside, "up"]);
        ip(&[
            "-n",
            &self.lan_namespace(),
            "link",
            "set",
            &port,
            "master",
            "br0",
        ]);
        ip(&["-n", &self.lan_namespace(), "link", "set", &port, "up"]);
        let host = Host {
            namespace,
            address,
            port,
        };
        self.hosts.push(host.clone());
        host
    }

    /// Cuts `host` off the LAN: its packets go nowhere (no reset, no refusal), as when a
    /// network fails.
    pub fn partition(&self, host: &Host) {
        ip(&[
            "-n",
            &self.lan_namespace(),
            "link",
            "set",
            &host.port,
            "down",
        ]);
    }

    /// Puts `host` back on the LAN.
    pub fn heal(&self, host: &Host) {
        ip(&["-n", &self.lan_namespace(), "link", "set", &host.port, "up"]);
    }
}

/// Moves the calling thread (only it) into network namespace `namespace`: connections it
/// makes from then on start there.
pub fn enter(namespace: &str) {
    let path = format!("/run/netns/{namespace}");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    rustix::thread::move_into_link_name_space(
        std::os::fd::AsFd::as_fd(&file),
        Some(rustix::thread::LinkNameSpaceType::Network),
    )
    .unwrap_or_else(|e| panic!("cannot enter network namespace {namespace}: {e}"));
}

impl Host {
    /// `program` run inside this host's namespace (`ip netns exec`).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.namespace])
            .arg(program);
        command
    }

    /// A command's program and arguments moved inside this host's namespace, its environment
    /// and working directory kept.
    pub fn wrap(&self, inner: &Command) -> Command {
        let mut command = self.command(inner.get_program());
        command.args(inner.get_args());
        for (name, value) in inner.get_envs() {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        if let Some(dir) = inner.get_current_dir() {
            command.current_dir(dir);
        }
        command
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        // Deleting a namespace removes its end of each veth pair, and so the pair.
        for host in &self.hosts {
            let _ = Command::new("ip")
                .args(["netns", "del", &host.namespace])
                .output();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.lan_namespace()])
            .output();
    }
}
