//! Running commands and the servers the demo and the tests need.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::Result;

/// Runs `command` to completion, inheriting the terminal; fails on a non-zero exit.
pub(crate) fn run(command: &mut Command) -> Result {
    let shown = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!("$ {shown}");
    let status = command
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// Runs `command` and returns its stdout, or `None` if it could not run or failed.
pub(crate) fn output(command: &mut Command) -> Option<String> {
    let out = command.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A server started by xtask, stopped when dropped.
pub(crate) struct Server {
    name: &'static str,
    child: Child,
    /// The `http://ADDR` it printed when ready.
    pub(crate) url: String,
}

impl Server {
    /// Starts `binary` with `args` and waits for its `listening on http://ADDR` line.
    pub(crate) fn start(
        name: &'static str,
        binary: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> Result<Server> {
        let mut child = Command::new(binary)
            .args(args)
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (ready, announced) = std::sync::mpsc::channel();
        // Read the announcement, then keep draining stdout so the server
        // never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout)
                .lines()
                .map_while(std::result::Result::ok)
            {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = ready.send(url.trim().to_string());
                }
            }
        });
        let url = match announced.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                return Err(format!("{name} did not say it was listening within 30 s"));
            }
        };
        eprintln!("{name} is listening on {url}");
        Ok(Server { name, child, url })
    }

    /// Whether it is still running.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Its name.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
