//! A real PostgreSQL (Debian's `postgresql` package) in a temporary data directory on a loopback
//! port, for the hub's tests: `initdb`, then `pg_ctl start`, stopped when dropped. PostgreSQL
//! refuses to run as root, so as root (CI) its programs run as the `postgres` user through
//! `runuser`, on a data directory that user owns.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Where Debian puts a PostgreSQL version's programs: `/usr/lib/postgresql/<major>/bin`.
const INSTALLS: &str = "/usr/lib/postgresql";

/// A running PostgreSQL; stopped (immediately, as after a crash: tests never need its data) when
/// dropped.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    stopped: bool,
    /// Whether commits reach the disk (`fsync = on`): for benchmarks. Tests turn it off, being
    /// about behaviour, not durability.
    durable: bool,
    /// The network namespace it runs in (`crate::netns`) and its address there; `None` on the
    /// machine's own loopback.
    host: Option<(String, String)>,
}

impl Postgres {
    /// Makes a cluster in `dir/pg` and starts it on a free loopback port; trust authentication,
    /// loopback only, its socket in the data directory; `fsync = off`, as tests need no
    /// durability.
    pub fn start(dir: &Path) -> Self {
        Self::start_with(dir, false)
    }

    /// As [`Postgres::start`], with PostgreSQL's durable defaults (`fsync = on`,
    /// `synchronous_commit = on`): what a benchmark measures against.
    pub fn start_durable(dir: &Path) -> Self {
        Self::start_with(dir, true)
    }

    /// As [`Postgres::start`], inside a network namespace, listening on `address` there as
    /// well as on its loopback (where [`Postgres::psql`] reaches it).
    pub fn start_in(dir: &Path, namespace: &str, address: &str) -> Self {
        Self::start_on(dir, false, Some((namespace.to_owned(), address.to_owned())))
    }

    fn start_with(dir: &Path, durable: bool) -> Self {
        Self::start_on(dir, durable, None)
    }

    fn start_on(dir: &Path, durable: bool, host: Option<(String, String)>) -> Self {
        let bin = bin_dir();
        let data = dir.join("pg");
        std::fs::create_dir_all(&data).unwrap();
        if as_root() {
            // The postgres user must own the data directory and reach it through every parent.
            for path in [dir, &data] {
                chown_to_postgres(path);
            }
            let mut parent = dir.parent();
            while let Some(path) = parent {
                allow_traversal(path);
                parent = path.parent();
            }
        }
        let mut server = Postgres {
            bin,
            data,
            port: 0,
            stopped: true,
            durable,
            host,
        };
        let initdb = server.run(
            &server.bin.join("initdb"),
            &[
                "-D",
                path_str(&server.data),
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        assert!(initdb.status.success(), "initdb failed: {}", both(&initdb));
        if let Some((_, address)) = &server.host {
            // Hosts on the namespaces' LAN connect too (trust: tests only).
            let network = format!("{}.0/24", address.rsplit_once('.').map_or("", |(n, _)| n));
            let hba = server.data.join("pg_hba.conf");
            let mut rules = std::fs::read_to_string(&hba).unwrap();
            rules.push_str(&format!("host all all {network} trust\n"));
            std::fs::write(&hba, rules).unwrap();
        }
        server.port = crate::free_port();
        server.start_again();
        server
    }

    /// Starts it again after [`Postgres::stop`], on the same port and data.
    pub fn start_again(&mut self) {
        let fsync = if self.durable { "on" } else { "off" };
        let listen = match &self.host {
            Some((_, address)) => format!("127.0.0.1,{address}"),
            None => "127.0.0.1".to_owned(),
        };
        let options = format!(
            "-p {} -k {} -c listen_addresses={listen} -c fsync={fsync} -c synchronous_commit=on \
             -c max_connections=200",
            self.port,
            path_str(&self.data)
        );
        let log = self.data.join("server.log");
        let started = self.run(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                path_str(&self.data),
                "-o",
                &options,
                "-l",
                path_str(&log),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        assert!(
            started.status.success(),
            "pg_ctl start failed: {}\n{}",
            both(&started),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        self.stopped = false;
        self.wait_ready();
    }

    /// Stops it at once, as a crash would (`pg_ctl stop -m immediate`).
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        let _ = self.run(
            &self.bin.join("pg_ctl"),
            &["-D", path_str(&self.data), "-m", "immediate", "-w", "stop"],
        );
        self.stopped = true;
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A connection URL for `database` (`postgres` always exists): on loopback, or at its
    /// address in its namespace.
    pub fn url(&self, database: &str) -> String {
        let host = self.host.as_ref().map_or("127.0.0.1", |(_, a)| a.as_str());
        format!("postgres://postgres@{host}:{}/{database}", self.port)
    }

    /// Runs a PostgreSQL program, as the `postgres` user when we are root, in its namespace.
    fn run(&self, program: &Path, args: &[&str]) -> Output {
        let mut command = match &self.host {
            Some((namespace, _)) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", namespace]);
                c
            }
            None => return run(program, args),
        };
        if as_root() {
            command.args(["runuser", "-u", "postgres", "--"]);
        }
        command
            .arg(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
    }

    /// Creates a database and answers its URL: one per test, so tests share a server.
    pub fn create_database(&self, name: &str) -> String {
        let port = self.port.to_string();
        let created = self.run(
            &self.bin.join("createdb"),
            &[&self.client_args(&port)[..], &[name]].concat(),
        );
        assert!(
            created.status.success(),
            "createdb failed: {}",
            both(&created)
        );
        self.url(name)
    }

    /// Backs `database` up with `pg_dump` (custom format); answers the file.
    pub fn dump(&self, database: &str) -> PathBuf {
        let file = self.data.with_file_name(format!("{database}.dump"));
        let port = self.port.to_string();
        let options = ["-Fc", "-f", path_str(&file), database];
        let out = self.run(
            &self.bin.join("pg_dump"),
            &[&self.client_args(&port)[..], &options].concat(),
        );
        assert!(out.status.success(), "pg_dump failed: {}", both(&out));
        file
    }

    /// Puts a [`Postgres::dump`] back in place of `database` (`pg_restore --clean`): what an
    /// administrator does after losing the database. Nothing may be connected to it.
    pub fn restore(&self, database: &str, file: &Path) {
        let port = self.port.to_string();
        let options = ["--clean", "--if-exists", "-d", database, path_str(file)];
        let out = self.run(
            &self.bin.join("pg_restore"),
            &[&self.client_args(&port)[..], &options].concat(),
        );
        assert!(out.status.success(), "pg_restore failed: {}", both(&out));
    }

    /// Runs SQL through `psql` and answers its output (unaligned, tuples only).
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let port = self.port.to_string();
        let options = ["-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql];
        let out = self.run(
            &self.bin.join("psql"),
            &[&self.client_args(&port)[..], &options].concat(),
        );
        assert!(out.status.success(), "psql failed: {}", both(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Where a client program connects: this server, as `postgres`.
    fn client_args<'a>(&self, port: &'a str) -> [&'a str; 6] {
        ["-h", "127.0.0.1", "-p", port, "-U", "postgres"]
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = self.run(
                &self.bin.join("pg_isready"),
                &["-h", "127.0.0.1", "-p", &self.port.to_string()],
            );
            if ready.status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL never became ready: {}",
                both(&ready)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The newest installed version's programs.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(INSTALLS)
        .unwrap_or_else(|e| panic!("{INSTALLS}: {e}: PostgreSQL is missing: run scripts/setup"))
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .unwrap_or_else(|| panic!("no initdb under {INSTALLS}: run scripts/setup"))
}

fn as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Runs a PostgreSQL program, as the `postgres` user when we are root.
fn run(program: &Path, args: &[&str]) -> Output {
    let mut command = if as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
}

fn chown_to_postgres(path: &Path) {
    let status = Command::new("chown")
        .args(["postgres:postgres"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "chown {}", path.display());
}

/// Lets other users pass through `path` (not read it): temporary directories are 0700.
fn allow_traversal(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & 0o001 == 0 {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | 0o001));
        }
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn both(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
