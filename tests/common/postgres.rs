//! A PostgreSQL server of a test's own: Debian's `postgresql` package (which `.ci/run` installs),
//! started with its binaries (`/usr/lib/postgresql/<version>/bin`) on a free loopback port in a
//! temporary directory — as the `postgres` user when the test runs as root, because `initdb`
//! refuses root.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::free_port;

/// A PostgreSQL server of this test's own.
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

fn debian_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

impl Postgres {
    fn command(&self, tool: &str) -> Command {
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
            c
        } else {
            Command::new(self.bin.join(tool))
        };
        cmd.env_remove("PGDATA");
        cmd
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts a fresh server, or `None` (outside CI only) when Debian's binaries are not installed.
    pub fn start() -> Option<Postgres> {
        let Some(bin) = debian_bin_dir() else {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "PostgreSQL's binaries are missing under /usr/lib/postgresql: .ci/run installs Debian's `postgresql` package");
            eprintln!("SKIPPED (not in CI): Debian's postgresql package is not installed (apt-get install postgresql)");
            return None;
        };
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let as_postgres = uid == "0";
        let dir = tempfile::tempdir().unwrap();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "chown the test directory to postgres");
        }
        let pg = Postgres {
            bin,
            data: dir.path().join("data"),
            port: free_port(),
            as_postgres,
            _dir: dir,
        };
        let data = pg.data.to_string_lossy().to_string();
        pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "sy",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        pg.start_server();
        Some(pg)
    }

    pub fn start_server(&self) {
        let data = self.data.to_string_lossy().to_string();
        let socket_dir = self
            .data
            .parent()
            .unwrap_or(Path::new("/tmp"))
            .to_string_lossy()
            .to_string();
        let options = format!("-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={socket_dir} -c fsync=off", self.port);
        let log = self
            .data
            .parent()
            .unwrap()
            .join("server.log")
            .to_string_lossy()
            .to_string();
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-o", &options, "-l", &log, "-w", "-t", "30", "start",
            ],
        );
    }

    pub fn stop(&self) {
        let data = self.data.to_string_lossy().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    pub fn url(&self) -> String {
        format!("postgres://sy@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data.to_string_lossy().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}
