//! A real Kafka-compatible broker for tests: tansu (installed by
//! `scripts/setup-test.sh`), started on a free loopback port with in-memory
//! storage in its own directory, and killed when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

/// A running tansu broker.
pub struct Tansu {
    child: Child,
    /// `127.0.0.1:PORT`, for `bootstrap.servers`.
    pub bootstrap: String,
    _dir: tempfile::TempDir,
}

fn tansu_binary() -> Result<PathBuf> {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    let candidate = home.join("bin/tansu");
    if candidate.is_file() {
        return Ok(candidate);
    }
    bail!(
        "tansu is not installed ({}); run `make test`, which installs it",
        candidate.display()
    )
}

impl Tansu {
    /// Start a broker and wait until it accepts connections.
    pub fn start() -> Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = tempfile::tempdir()?;
        let url = format!("tcp://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("tansu.log"))?;
        let child = Command::new(tansu_binary()?)
            .current_dir(dir.path())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .context("starting tansu")?;
        let broker = Self {
            child,
            bootstrap: format!("127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&broker.bootstrap).is_err() {
            if Instant::now() > deadline {
                bail!("tansu did not listen on {} in time", broker.bootstrap);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(broker)
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
