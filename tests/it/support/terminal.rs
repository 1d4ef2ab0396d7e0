//! The binary run on a terminal (a pseudo-terminal from util-linux `script`), for what it
//! shows only there: the progress line.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A command running on a terminal, its output (stdout and stderr, as a user sees them)
/// collected as it comes.
pub struct Terminal {
    child: Child,
    seen: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// `arg` quoted for `sh`.
fn quoted(arg: &std::ffi::OsStr) -> String {
    format!("'{}'", arg.to_string_lossy().replace('\'', r"'\''"))
}

impl Terminal {
    /// Starts `cmd` (its program, arguments and environment) on a terminal.
    pub fn start(cmd: &Command) -> Terminal {
        let line = std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(quoted)
            .collect::<Vec<_>>()
            .join(" ");
        // Wide enough that no line is cut.
        let line = format!("stty cols 200 rows 40; exec {line}");
        let mut script = Command::new("script");
        // -q: no "Script started" lines; -f: flush as written; -e: the command's exit code.
        script
            .args(["-qfec", &line, "/dev/null"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => script.env(k, v),
                None => script.env_remove(k),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            script.current_dir(dir);
        }
        let mut child = script
            .spawn()
            .expect("util-linux `script` (Debian package bsdutils) runs commands on a terminal");
        let mut out = child.stdout.take().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                into.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Terminal {
            child,
            seen,
            reader: Some(reader),
        }
    }

    /// What the terminal has shown so far.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Waits until the terminal has shown something `shown` accepts; panics with what it
    /// showed after `limit`.
    pub fn wait_for(&self, limit: Duration, shown: impl Fn(&str) -> bool) -> String {
        let began = Instant::now();
        loop {
            let screen = self.screen();
            if shown(&screen) {
                return screen;
            }
            assert!(
                began.elapsed() < limit,
                "not shown within {limit:?}; the terminal showed:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the command to end: its exit status and everything it showed.
    pub fn finish(mut self) -> (ExitStatus, String) {
        let status = self.child.wait().unwrap();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        (status, self.screen())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The progress lines a terminal showed: (objects done, objects, records) of each.
pub fn progress_lines(screen: &str) -> Vec<(u64, u64, u64)> {
    let number = |s: &str| -> Option<u64> {
        let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().ok()
    };
    screen
        .split("objects ")
        .skip(1)
        .filter_map(|frame| {
            let (done, rest) = frame.split_once('/')?;
            let total = number(rest)?;
            let before_records = &rest[..rest.find(" records (")?];
            let records = before_records.rsplit(' ').next().and_then(number)?;
            Some((done.parse().ok()?, total, records))
        })
        .collect()
}
