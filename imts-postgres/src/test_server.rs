//! A throwaway PostgreSQL cluster for tests: `initdb` in a temporary directory, `pg_ctl` on a
//! free loopback port, stopped (immediately) when dropped, whatever happened. `initdb` refuses
//! to run as root, so as root both run as the `postgres` user (`runuser -u postgres --`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A running cluster.
#[derive(Debug)]
pub struct PostgresServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

/// Where `initdb` and `pg_ctl` are: on `PATH`, or in Debian's `/usr/lib/postgresql/N/bin`.
fn find_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>());
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"));
    on_path
        .chain(debian)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

impl PostgresServer {
    /// Starts one; `None` when PostgreSQL is not installed. Set `IMTS_REQUIRE_POSTGRES=1` (CI
    /// does when it installed it) to make a missing server an error instead.
    ///
    /// # Panics
    /// When PostgreSQL is required but missing, or the cluster does not start.
    #[must_use]
    pub fn start() -> Option<Self> {
        let Some(bin) = find_bin() else {
            assert!(
                std::env::var("IMTS_REQUIRE_POSTGRES").is_err(),
                "IMTS_REQUIRE_POSTGRES is set but initdb/pg_ctl cannot be found"
            );
            eprintln!("PostgreSQL not found: skipping this PostgreSQL test");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = tempfile::tempdir().ok()?;
        let as_postgres = is_root();
        let server = Self {
            dir,
            bin,
            port,
            as_postgres,
        };
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(server.dir.path())
                .status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "chown of the cluster directory failed"
            );
        }
        let data = server.data_dir();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        server.launch();
        Some(server)
    }

    /// Stops the server at once (`-m immediate`: as a crash would), for tests of what clients
    /// do while it is gone; [`launch`](Self::launch) starts it again on the same port.
    pub fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"],
        );
    }

    /// Starts the server on its port (after [`stop`](Self::stop)); waits until it accepts.
    ///
    /// # Panics
    /// When it does not start.
    pub fn launch(&self) {
        let data = self.data_dir();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=on",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &data,
                "-o",
                &options,
                "-l",
                &format!("{data}.log"),
                "-w",
                "-t",
                "30",
                "start",
            ],
        );
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self
            .command(tool)
            .args(args)
            .current_dir(Path::new("/"))
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{tool} could not run: {e}"));
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
