//! Issue 17, 11: a run stopped by SIGINT or SIGTERM removes its temporary files (the
//! scan's columnar copy, export staging, spill files: all in its scratch folder), and a
//! run killed harder leaves a folder the next run removes.

use crate::support;

use std::path::Path;
use std::process::{Command, Stdio};

use support::root;

/// The scratch folders (`sageflow-<pid>-…`) in `tmp`.
fn scratch_folders(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sageflow-"))
        .collect()
}

#[test]
fn a_stopped_scan_removes_its_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("gen");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let bin = env!("CARGO_BIN_EXE_sageflow");
    let o = Command::new(bin)
        .args(["generate", "--records", "400000", "--objects", "4", "--out"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success());

    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let mut child = Command::new(bin)
            .current_dir(root())
            .arg("scan")
            .arg(data.join("AWSLogs"))
            .arg("--inventory")
            .arg(data.join("inventory"))
            .args(["--quiet", "--group-by", "flow"])
            .env("TMPDIR", &tmp)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the scan's copy to be written: a file in the scratch folder.
        let copying = || {
            support::files_under(&tmp)
                .iter()
                .any(|f| f.to_string_lossy().contains("/scan-"))
        };
        let mut waited = 0;
        while !copying() {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the scan ended before it was stopped"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
            waited += 1;
            assert!(waited < 3000, "no scan copy appeared in {}", tmp.display());
        }
        // SAFETY: kill(2) on our own child's pid, which std has not reaped yet.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains("stopped by a signal"), "{err}");
        assert_eq!(scratch_folders(&tmp), Vec::<String>::new());
    }

    // A run killed outright leaves its folder; the next run removes it (its process is
    // gone). pid 4194304 is above Linux's highest.
    let stale = tmp.join("sageflow-4194304-abc123");
    std::fs::create_dir_all(stale.join("scan-x")).unwrap();
    std::fs::write(stale.join("scan-x/part-0000.parquet"), b"left over").unwrap();
    let o = Command::new(bin)
        .current_dir(root())
        .args([
            "query",
            "sample-logs/v2-default",
            "--quiet",
            "--sql",
            "SELECT 1",
        ])
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(scratch_folders(&tmp), Vec::<String>::new());
}
