//! One app per data directory. The first app to start holds a lock file there and listens on a
//! Unix socket beside it; a second start (from the launcher, from login, from a notification's
//! Open button while `stopline serve` hosts the engine) finds the lock taken, asks the first to
//! bring its window forward, on an incident if it was started for one, and exits.
//!
//! The lock, not the socket, decides who is first: the operating system releases it when the
//! process ends, even on `kill -9`, so a stale socket file never keeps the app from starting.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why this app cannot take (or hand over to) the single instance of its data directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InstanceError(pub String);

/// What a second start asks of the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Bring the window forward.
    Show,
    /// Bring the window forward on this incident.
    Open(String),
}

impl Request {
    fn line(&self) -> String {
        match self {
            Self::Show => "show\n".to_owned(),
            Self::Open(id) => format!("open {id}\n"),
        }
    }

    fn parse(line: &str) -> Option<Self> {
        let line = line.trim();
        match line.split_once(' ') {
            None if line == "show" => Some(Self::Show),
            Some(("open", id)) if !id.trim().is_empty() => Some(Self::Open(id.trim().to_owned())),
            _ => None,
        }
    }
}

/// The outcome of trying to be the app of a data directory.
#[derive(Debug)]
pub enum Claim {
    /// This process is the app; keep the value alive as long as it runs.
    First(FirstInstance),
    /// Another app runs (its pid, when known) and was told `request`.
    Forwarded { pid: String },
}

/// The lock held by the first app, and where it listens.
#[derive(Debug)]
pub struct FirstInstance {
    _lock: File,
    socket: PathBuf,
}

fn paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    (data_dir.join("desktop.lock"), data_dir.join("desktop.sock"))
}

/// Becomes the app of `data_dir`, or forwards `request` to the app that already is.
pub fn claim(data_dir: &Path, request: &Request) -> Result<Claim, InstanceError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| InstanceError(format!("cannot create {}: {e}", data_dir.display())))?;
    let (lock_path, socket) = paths(data_dir);
    let mut lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&lock_path)
        .map_err(|e| InstanceError(format!("cannot open {}: {e}", lock_path.display())))?;
    match lock.try_lock() {
        Ok(()) => {
            // The pid, for the message a second start prints.
            let _ = lock.set_len(0);
            let _ = writeln!(lock, "{}", std::process::id());
            Ok(Claim::First(FirstInstance {
                _lock: lock,
                socket,
            }))
        }
        Err(TryLockError::WouldBlock) => {
            let pid = std::fs::read_to_string(&lock_path)
                .unwrap_or_default()
                .trim()
                .to_owned();
            forward(&socket, request)?;
            Ok(Claim::Forwarded { pid })
        }
        Err(TryLockError::Error(e)) => Err(InstanceError(format!(
            "cannot lock {}: {e}",
            lock_path.display()
        ))),
    }
}

/// Sends the request to the first app, waiting briefly for it to listen (it may be starting).
#[cfg(unix)]
fn forward(socket: &Path, request: &Request) -> Result<(), InstanceError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match std::os::unix::net::UnixStream::connect(socket) {
            Ok(mut stream) => {
                return stream
                    .write_all(request.line().as_bytes())
                    .map_err(|e| InstanceError(format!("cannot reach the running app: {e}")));
            }
            Err(e) if Instant::now() >= deadline => {
                return Err(InstanceError(format!(
                    "another Stopline app holds this data directory but does not answer on {}: {e}",
                    socket.display()
                )));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[cfg(not(unix))]
fn forward(_socket: &Path, _request: &Request) -> Result<(), InstanceError> {
    Ok(())
}

impl FirstInstance {
    /// Listens for second starts on a thread of its own, calling `on_request` for each.
    #[cfg(unix)]
    pub fn listen(
        &self,
        on_request: impl Fn(Request) + Send + 'static,
    ) -> Result<(), InstanceError> {
        // The lock is ours, so a socket file left here is from an app that died: replace it.
        let _ = std::fs::remove_file(&self.socket);
        let listener = std::os::unix::net::UnixListener::bind(&self.socket).map_err(|e| {
            InstanceError(format!("cannot listen on {}: {e}", self.socket.display()))
        })?;
        std::thread::Builder::new()
            .name("single-instance".to_owned())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let mut line = String::new();
                    // One short line per connection; a peer that sends nothing is dropped.
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                    if BufReader::new(stream).read_line(&mut line).is_ok()
                        && let Some(request) = Request::parse(&line)
                    {
                        on_request(request);
                    }
                }
            })
            .map_err(|e| {
                InstanceError(format!("cannot start the single-instance listener: {e}"))
            })?;
        Ok(())
    }

    #[cfg(not(unix))]
    pub fn listen(
        &self,
        _on_request: impl Fn(Request) + Send + 'static,
    ) -> Result<(), InstanceError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_start_forwards_its_request_to_the_first_and_the_lock_outlives_no_process() {
        let dir = tempfile::tempdir().unwrap();
        let Claim::First(first) = claim(dir.path(), &Request::Show).unwrap() else {
            panic!("the first claim wins");
        };
        let (sender, received) = std::sync::mpsc::channel();
        first
            .listen(move |request| sender.send(request).unwrap())
            .unwrap();

        let second = claim(dir.path(), &Request::Open("INC-7".to_owned())).unwrap();
        let Claim::Forwarded { pid } = second else {
            panic!("a second claim forwards");
        };
        assert_eq!(pid, std::process::id().to_string());
        let request = received.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(request, Request::Open("INC-7".to_owned()));
        claim(dir.path(), &Request::Show).unwrap();
        assert_eq!(
            received.recv_timeout(Duration::from_secs(5)).unwrap(),
            Request::Show
        );

        // When the first ends, the next start is first again, despite the socket file left.
        drop(first);
        assert!(dir.path().join("desktop.sock").exists());
        let Claim::First(again) = claim(dir.path(), &Request::Show).unwrap() else {
            panic!("the lock went with the first app");
        };
        again.listen(|_| {}).unwrap();
    }

    #[test]
    fn requests_read_back_as_sent_and_junk_is_ignored() {
        for request in [Request::Show, Request::Open("INC-12".to_owned())] {
            assert_eq!(Request::parse(&request.line()), Some(request));
        }
        assert_eq!(Request::parse("open \n"), None);
        assert_eq!(Request::parse("rm -rf /"), None);
    }
}
