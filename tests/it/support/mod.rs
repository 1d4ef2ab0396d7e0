//! A local AWS for integration tests: a moto server (PyPI `moto[server]`, version
//! [`MOTO_VERSION`]) on 127.0.0.1, shared by the tests of one test binary.
//!
//! Include with `mod support;` and call [`moto()`]. On first use the harness:
//! 1. makes sure a Python venv with the pinned moto exists: `$SAGEFLOW_MOTO_VENV` if set,
//!    else `target/moto-venv`. A venv whose moto has the pinned version is reused;
//!    otherwise it is built with `python3 -m venv` + `pip install` in a temporary
//!    directory beside it and renamed into place, all under an exclusive lock on
//!    `<venv>.lock`, so test binaries running in parallel install it once;
//! 2. starts `tests/it/support/moto_server.py` from that venv on a free port (the server
//!    picks it and reports it) and keeps the child's stdin pipe open in a static. When
//!    the test binary exits, however it exits, the pipe closes and the server stops.
//!
//! Nothing is skipped: if Python, the install or the server fails, every test that uses
//! moto panics saying what failed. Tests never reach real AWS: every client gets the
//! local endpoint and fake credentials from [`Moto::env`].

#![allow(dead_code)]

pub mod proxy;
pub mod terminal;

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError, mpsc};
use std::time::{Duration, Instant};

/// The moto release the tests are written against.
pub const MOTO_VERSION: &str = "5.1.22";
/// DuckDB for the tests that check other engines read sageflow's exports.
pub const DUCKDB_VERSION: &str = "2.0.1";

/// How long the server may take to report that it listens.
const START_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Moto {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    port: u16,
    python: PathBuf,
    /// The server and the write end of its stdin; never dropped, so the pipe closes
    /// only when the process exits.
    _child: Mutex<(Child, ChildStdin)>,
}

/// The repository root: tests run the binary from here, as the README's commands do.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sageflow binary, run from the repository root, with no `RUST_LOG` or fault hook
/// (`SAGEFLOW_FAULT`) inherited.
pub fn sageflow() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("sageflow").expect("the sageflow binary");
    c.current_dir(root());
    c.env_remove("RUST_LOG");
    c.env_remove("SAGEFLOW_FAULT");
    c
}

static MOTO: OnceLock<Result<Moto, String>> = OnceLock::new();
static SERIAL: Mutex<()> = Mutex::new(());

/// The shared server of this test binary (started on first use).
pub fn moto() -> &'static Moto {
    match MOTO.get_or_init(start) {
        Ok(m) => m,
        Err(e) => panic!("moto test server unavailable: {e}"),
    }
}

impl Moto {
    /// Serialises tests that use moto (they share one server) and resets its state (POST
    /// /moto-api/reset). Hold the guard for the whole test.
    pub fn lock(&self) -> MutexGuard<'static, ()> {
        // A test that panicked while holding the lock does not make the others fail.
        let guard = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        self.reset();
        guard
    }

    /// The venv's python (has boto3, which moto installs), for seeding scripts.
    pub fn python(&self) -> PathBuf {
        self.python.clone()
    }

    /// Environment for a sageflow command or SDK client: fake credentials, us-east-1, no
    /// profile or config files, no instance metadata, no proxy for 127.0.0.1.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        [
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("NO_PROXY", "127.0.0.1,localhost"),
            ("no_proxy", "127.0.0.1,localhost"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect()
    }

    /// A sageflow command with [`Moto::env`] applied (and every other inherited `AWS_*`
    /// variable removed); `--endpoint-url <endpoint>` is NOT added (callers add it).
    pub fn sageflow(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::cargo_bin("sageflow").expect("the sageflow binary");
        for k in inherited_aws_vars() {
            c.env_remove(k);
        }
        c.env_remove("RUST_LOG");
        c.envs(self.env());
        c
    }

    /// Runs sageflow against this server (`--endpoint-url` added); returns the exit code,
    /// stdout and stderr.
    #[allow(dead_code)]
    pub fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let out = self
            .sageflow()
            .args(args)
            .args(["--endpoint-url", &self.endpoint])
            .output()
            .expect("sageflow runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs `python -c <code>` (or `python <code>` when `code` is the path of a file) in
    /// the venv with [`Moto::env`] and `ENDPOINT` set; returns its stdout. Panics with its
    /// stderr on failure.
    pub fn run_python(&self, code: &str) -> String {
        let mut cmd = Command::new(&self.python);
        if !code.contains('\n') && Path::new(code).is_file() {
            cmd.arg(code);
        } else {
            cmd.arg("-c").arg(code);
        }
        for k in inherited_aws_vars() {
            cmd.env_remove(k);
        }
        cmd.envs(self.env())
            .env("ENDPOINT", &self.endpoint)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null());
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.python.display()));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            panic!(
                "seeding script failed ({}):\n--- stderr ---\n{}\n--- stdout ---\n{stdout}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        stdout
    }

    /// Forgets every resource created so far.
    fn reset(&self) {
        let response = self.post("/moto-api/reset");
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "moto reset failed: {}",
            response.lines().next().unwrap_or("no response")
        );
    }

    fn post(&self, path: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))
            .unwrap_or_else(|e| panic!("cannot connect to moto at {}: {e}", self.endpoint));
        s.set_read_timeout(Some(Duration::from_secs(60))).ok();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap_or_else(|e| panic!("cannot write to moto at {}: {e}", self.endpoint));
        let mut response = String::new();
        s.read_to_string(&mut response)
            .unwrap_or_else(|e| panic!("cannot read from moto at {}: {e}", self.endpoint));
        response
    }
}

/// `AWS_*` variables of the environment the tests run in (a developer's profile, a
/// session token, endpoint overrides): removed from every child so that nothing points
/// anywhere but moto.
fn inherited_aws_vars() -> Vec<OsString> {
    std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| k.to_string_lossy().starts_with("AWS_"))
        .collect()
}

fn start() -> Result<Moto, String> {
    let python = ensure_venv(&venv_dir())?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/moto_server.py");
    let log_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "moto-server-{}.log",
        std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "tests".to_string())
    ));
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;

    let mut cmd = Command::new(&python);
    cmd.arg(&script).arg("0");
    for k in inherited_aws_vars() {
        cmd.env_remove(k);
    }
    let mut child = cmd
        .env("PYTHONUNBUFFERED", "1")
        // sageflow sends path-style requests to an --endpoint-url; without this, moto reads
        // a host name such as `s3.sageflow.test` (tests/aws_network.rs) as a bucket.
        .env("S3_IGNORE_SUBDOMAIN_BUCKETNAME", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|e| {
            format!(
                "cannot start {} {}: {e}",
                python.display(),
                script.display()
            )
        })?;
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");

    // Read the ready line on another thread so that a server that hangs cannot hang the
    // tests; keep draining stdout afterwards so that the server never writes to a closed
    // pipe.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next();
        let _ = tx.send(first);
        for _ in lines {}
    });
    let log_text = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let line = match rx.recv_timeout(START_TIMEOUT) {
        Ok(Some(Ok(line))) => line,
        Ok(_) => {
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            return Err(format!(
                "moto server exited before it was ready ({status}); its log ({}):\n{}",
                log_path.display(),
                log_text()
            ));
        }
        Err(_) => {
            let _ = child.kill();
            return Err(format!(
                "moto server did not report readiness within {START_TIMEOUT:?}; its log ({}):\n{}",
                log_path.display(),
                log_text()
            ));
        }
    };
    let port: u16 = line
        .strip_prefix("MOTO_READY ")
        .and_then(|p| p.trim().parse().ok())
        .ok_or_else(|| format!("unexpected first line from the moto server: {line:?}"))?;
    Ok(Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        port,
        python,
        _child: Mutex::new((child, stdin)),
    })
}

/// The venv's python (boto3, moto, duckdb) without starting the moto server.
#[allow(dead_code)]
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(|| ensure_venv(&venv_dir())) {
        Ok(p) => p.clone(),
        Err(e) => panic!("python test environment unavailable: {e}"),
    }
}

/// `$SAGEFLOW_MOTO_VENV`, else `target/moto-venv`.
fn venv_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SAGEFLOW_MOTO_VENV").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    // CARGO_TARGET_TMPDIR is <target>/tmp.
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("moto-venv")
}

/// The venv's python, after installing the pinned moto into `dir` if needed.
fn ensure_venv(dir: &Path) -> Result<PathBuf, String> {
    let python = dir.join("bin").join("python");
    if has_pinned_moto(&python) {
        return Ok(python);
    }
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "moto-venv".to_string());

    // Test binaries run in parallel: the first one installs, the others wait here and
    // then find the venv ready.
    let lock_path = parent.join(format!("{name}.lock"));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    if has_pinned_moto(&python) {
        return Ok(python);
    }

    // Leftovers of an interrupted install; nobody else installs while we hold the lock.
    let tmp_prefix = format!(".{name}.tmp-");
    if let Ok(entries) = std::fs::read_dir(parent) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&tmp_prefix) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let tmp = parent.join(format!("{tmp_prefix}{}", std::process::id()));
    let started = Instant::now();
    eprintln!(
        "installing moto[server]=={MOTO_VERSION} into {} (first run only; needs python3 with venv and access to PyPI)",
        dir.display()
    );
    run(
        Command::new("python3").arg("-m").arg("venv").arg(&tmp),
        "python3 -m venv",
    )?;
    let tmp_python = tmp.join("bin").join("python");
    run(
        Command::new(&tmp_python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
            ])
            .arg(format!("moto[server]=={MOTO_VERSION}"))
            .arg(format!("duckdb=={DUCKDB_VERSION}")),
        &format!("pip install moto[server]=={MOTO_VERSION} duckdb=={DUCKDB_VERSION}"),
    )?;
    if !has_pinned_moto(&tmp_python) {
        return Err(format!(
            "moto {MOTO_VERSION} was installed into {} but cannot be imported",
            tmp.display()
        ));
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| format!("cannot remove the outdated {}: {e}", dir.display()))?;
    }
    std::fs::rename(&tmp, dir)
        .map_err(|e| format!("cannot rename {} to {}: {e}", tmp.display(), dir.display()))?;
    eprintln!("installed moto {MOTO_VERSION} in {:.0?}", started.elapsed());
    if !has_pinned_moto(&python) {
        return Err(format!(
            "moto {MOTO_VERSION} cannot be imported from {} after the install",
            python.display()
        ));
    }
    drop(lock);
    Ok(python)
}

/// Whether `python` exists and imports moto's server, at the pinned version, and boto3.
fn has_pinned_moto(python: &Path) -> bool {
    if !python.exists() {
        return false;
    }
    Command::new(python)
        .args([
            "-c",
            "import boto3, duckdb, moto, moto.server; print(moto.__version__, duckdb.__version__)",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| {
            o.status.success()
                && String::from_utf8_lossy(&o.stdout).trim()
                    == format!("{MOTO_VERSION} {DUCKDB_VERSION}")
        })
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Every file under `dir`, recursively, sorted; none when `dir` does not exist.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                v.extend(files_under(&p));
            } else {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

/// A Python script (for [`Moto::run_python`]) that puts the records of a sample shape into
/// the log group `group`, one stream per ENI (`<eni>-all`, as VPC Flow Logs names them),
/// each event stamped with its record's `start`. With `flow_log_format`, it also creates
/// the flow log that writes to the group.
pub fn log_group_seed(shape: &str, group: &str, flow_log_format: Option<&str>) -> String {
    log_group_seed_of(&[(shape, flow_log_format)], group)
}

/// [`log_group_seed`] of several shapes into one group, as flow logs that write to the same
/// group share its streams: each stream's events of every shape, in time order, and a flow
/// log (of a VPC of its own) for each shape that has a format.
#[allow(dead_code)]
pub fn log_group_seed_of(shapes: &[(&str, Option<&str>)], group: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let shapes = shapes
        .iter()
        .map(|(shape, f)| {
            format!(
                "({shape:?}, {})",
                f.map_or("None".to_string(), |f| format!("{f:?}"))
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"
import os, gzip, glob, boto3, collections
ep = os.environ["ENDPOINT"]
logs = boto3.client("logs", endpoint_url=ep)
ec2 = boto3.client("ec2", endpoint_url=ep)
group = {group:?}
logs.create_log_group(logGroupName=group)
by_stream = collections.defaultdict(list)
for shape, fmt in [{shapes}]:
    for f in sorted(glob.glob("{root}/sample-logs/" + shape + "/**/*.log.gz", recursive=True)):
        lines = gzip.open(f, "rt").read().splitlines()
        header = lines[0].split()
        for line in lines[1:]:
            if line.startswith("version "):
                continue
            rec = dict(zip(header, line.split()))
            by_stream[rec["interface-id"] + "-all"].append((int(rec["start"]) * 1000, line))
    if fmt:
        # AWS refuses a second flow log of one resource, traffic type and destination.
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL",
            LogDestinationType="cloud-watch-logs", LogGroupName=group,
            DeliverLogsPermissionArn="arn:aws:iam::111122223333:role/flow-logs", LogFormat=fmt)
for stream, events in by_stream.items():
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    events.sort()
    for i in range(0, len(events), 5000):
        logs.put_log_events(logGroupName=group, logStreamName=stream,
            logEvents=[{{"timestamp": t, "message": m}} for t, m in events[i:i + 5000]])
"#
    )
}

/// Findings of `scan --format json`, sorted, without the columns that name where each
/// record was read (`source_object`, `source_line`): the same logs from another source
/// must give these equal. `source` is the start every `source_object` must have.
#[allow(dead_code)]
pub fn findings_read_from(stdout: &str, source: &str) -> Vec<serde_json::Value> {
    let mut v: Vec<serde_json::Value> = serde_json::from_str(stdout).unwrap();
    for f in &mut v {
        let line = f.get("source_line").and_then(serde_json::Value::as_u64);
        if let Some(o) = without_provenance(f).filter(|o| !o.is_null()) {
            let o = o.as_str().expect("source_object is text");
            assert!(o.starts_with(source), "{o} was not read from {source}");
            assert!(line.is_some_and(|l| l >= 1), "{f:?}");
        }
    }
    v.sort_by_key(|f| f.to_string());
    v
}

/// Removes where a finding's record was read (`source_object`, returned, and
/// `source_line`), which differs between copies of the same logs.
#[allow(dead_code)]
pub fn without_provenance(f: &mut serde_json::Value) -> Option<serde_json::Value> {
    let f = f.as_object_mut()?;
    f.remove("source_line");
    f.remove("source_object")
}

/// The path of the Debian tool `name`, installed with apt-get (package `package`) when it
/// is missing: tests that need it run everywhere, never skipped.
#[allow(dead_code)]
pub fn debian_tool(name: &str, package: &str) -> PathBuf {
    let find = || {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    };
    if let Some(p) = find() {
        return p;
    }
    static INSTALL: Mutex<()> = Mutex::new(());
    let _once = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = find() {
        return p;
    }
    let apt = |args: &[&str]| {
        std::process::Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    let installed = apt(&["install", "-y", "--no-install-recommends", package])
        || (apt(&["update"]) && apt(&["install", "-y", "--no-install-recommends", package]));
    assert!(
        installed,
        "could not install the Debian package {package} (needed for {name})"
    );
    find().unwrap_or_else(|| panic!("{name} is not on PATH after installing {package}"))
}

/// Compares `actual` with `tests/snapshots/<name>`; writes it when UPDATE_SNAPSHOTS is set.
#[allow(dead_code)]
pub fn snapshot(name: &str, actual: &str) {
    let path = root().join("tests/snapshots").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "snapshot {name} differs (UPDATE_SNAPSHOTS=1 to accept)"
    );
}

/// Runs a venv set-up script of `tests/it/support/` (pinned PyPI packages) for the venv
/// `target/<name>`; returns what it printed (the paths the test needs).
#[allow(dead_code)]
pub fn venv_setup(script: &str, name: &str) -> String {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join(name);
    let o = std::process::Command::new("bash")
        .arg(root().join("tests/it/support").join(script))
        .arg(&venv)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{script} failed (needs python3 and PyPI):\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Runs `cmd`, which must succeed (exit 0); its standard output and error.
pub fn ok(cmd: &mut assert_cmd::Command) -> (String, String) {
    let out = cmd.output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{err}");
    (String::from_utf8(out.stdout).unwrap(), err)
}

/// Copies the directory tree `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}
