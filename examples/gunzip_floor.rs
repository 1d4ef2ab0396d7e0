//! The floor for `benches/compare.sh`: gzip decompression alone, one thread, of every
//! `.log.gz` under a directory, with libdeflate (fastest) and flate2/zlib-rs (what
//! sageflow streams with). Prints records (lines) per second for each.
//!
//! `cargo run --release --example gunzip_floor -- <dir>`

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn files(d: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(d).expect("readable dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            files(&p, out);
        } else if p.to_string_lossy().ends_with(".log.gz") {
            out.push(p);
        }
    }
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: gunzip_floor DIR");
    let mut paths = Vec::new();
    files(Path::new(&dir), &mut paths);
    paths.sort();
    let compressed: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect();

    // libdeflate: whole-member decompression; the output size is in the gzip trailer.
    let t = Instant::now();
    let mut lines = 0usize;
    let mut d = libdeflater::Decompressor::new();
    for c in &compressed {
        let isize = u32::from_le_bytes(c[c.len() - 4..].try_into().expect("trailer")) as usize;
        let mut out = vec![0u8; isize];
        let n = d.gzip_decompress(c, &mut out).expect("valid gzip");
        lines += memchr::memchr_iter(b'\n', &out[..n]).count();
    }
    let libdeflate = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut lines2 = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    for c in &compressed {
        let mut gz = flate2::read::MultiGzDecoder::new(&c[..]);
        loop {
            let n = gz.read(&mut buf).expect("valid gzip");
            if n == 0 {
                break;
            }
            lines2 += memchr::memchr_iter(b'\n', &buf[..n]).count();
        }
    }
    let zlibrs = t.elapsed().as_secs_f64();
    assert_eq!(lines, lines2);
    println!("lines {lines}");
    println!(
        "libdeflate_s {libdeflate:.3} rec_per_s {:.0}",
        lines as f64 / libdeflate
    );
    println!(
        "zlib_rs_s {zlibrs:.3} rec_per_s {:.0}",
        lines as f64 / zlibrs
    );
}
