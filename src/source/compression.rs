//! How an object's bytes are encoded (sniffed from its first bytes, whatever its name),
//! and gzip read member by member, so that damage is located by member and byte offset.

use std::io::{BufReader, Read};
use std::sync::Arc;

use super::SourceObject;
use crate::decode::ScanStats;
use crate::error::Error;

/// How an object's bytes are encoded, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Plain,
    Gzip,
    Parquet,
    Zstd,
    Bzip2,
}

pub fn sniff(head: &[u8]) -> Encoding {
    match head {
        [0x1f, 0x8b, ..] => Encoding::Gzip,
        [b'P', b'A', b'R', b'1', ..] => Encoding::Parquet,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Encoding::Zstd,
        [b'B', b'Z', b'h', ..] => Encoding::Bzip2,
        _ => Encoding::Plain,
    }
}

/// A small document read whole (an inventory file, a DNS query log): its bytes, inflated
/// (every member) when `sniff` says gzip.
pub fn inflated(bytes: &[u8]) -> std::io::Result<std::borrow::Cow<'_, [u8]>> {
    if sniff(bytes) != Encoding::Gzip {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(std::borrow::Cow::Owned(out))
}

/// Counts bytes as they are read, for progress and for error offsets.
pub(super) struct Counting<R> {
    pub(super) inner: R,
    pub(super) read: u64,
    pub(super) stats: Arc<ScanStats>,
    /// Set when the source itself failed (disk, network), so that a failure is not
    /// blamed on the compressed data.
    pub(super) failed: bool,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf).inspect_err(|e| {
            self.failed = e.kind() != std::io::ErrorKind::Interrupted;
        })?;
        self.read += n as u64;
        ScanStats::add(&self.stats.bytes, n as u64);
        Ok(n)
    }
}

/// A gzip object decoded one member at a time (what `MultiGzDecoder` accepts, it accepts),
/// remembering where each member starts in the compressed bytes: gzip cannot resume after
/// a damaged member, so its offset is what tells the user which part of the object is lost.
pub(super) struct GzMembers<R: Read> {
    pub(super) member: Option<flate2::bufread::GzDecoder<BufReader<Counting<R>>>>,
    /// The input once the last member has ended.
    pub(super) done: Option<BufReader<Counting<R>>>,
    /// 0-based number of the member being decoded, and its compressed offset.
    pub(super) index: u64,
    pub(super) start: u64,
    /// A decoder that failed reads as ended afterwards; this keeps a retry from skipping
    /// on to the next member as if the damaged one were complete.
    pub(super) broken: bool,
}

impl<R: Read> GzMembers<R> {
    pub(super) fn new(input: BufReader<Counting<R>>) -> Self {
        GzMembers {
            member: Some(flate2::bufread::GzDecoder::new(input)),
            done: None,
            index: 0,
            start: 0,
            broken: false,
        }
    }

    /// The compressed input, held by the member being decoded or, after the last, `done`.
    pub(super) fn source(&self) -> Option<&Counting<R>> {
        match (&self.member, &self.done) {
            (Some(m), _) => Some(m.get_ref().get_ref()),
            (None, d) => d.as_ref().map(BufReader::get_ref),
        }
    }
}

impl<R: Read> Read for GzMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::io::BufRead;
        if self.broken {
            return Err(std::io::Error::other("the gzip stream failed earlier"));
        }
        loop {
            let Some(member) = &mut self.member else {
                return Ok(0);
            };
            let n = member.read(buf).inspect_err(|e| {
                self.broken = e.kind() != std::io::ErrorKind::Interrupted;
            })?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let mut input = self.member.take().expect("checked above").into_inner();
            let at_end = match input.fill_buf() {
                Ok(rest) => rest.is_empty(),
                Err(e) => {
                    self.done = Some(input);
                    self.broken = e.kind() != std::io::ErrorKind::Interrupted;
                    return Err(e);
                }
            };
            if at_end {
                self.done = Some(input);
                return Ok(0);
            }
            self.index += 1;
            self.start = input.get_ref().read - input.buffer().len() as u64;
            self.member = Some(flate2::bufread::GzDecoder::new(input));
        }
    }
}

/// Text input that can say where a failed read was.
pub(super) trait TextInput: Read {
    /// Counts the independently decoded parts (gzip members) begun so far.
    fn part(&self) -> u64;

    /// Where a read failed: in the source itself, or in the data of one gzip member.
    fn locate(&self, size: u64) -> Located;
}

pub(super) enum Located {
    Source { offset: u64 },
    Member { index: u64, start: u64, size: u64 },
}

impl<R: Read> TextInput for Counting<R> {
    fn part(&self) -> u64 {
        0
    }

    fn locate(&self, _size: u64) -> Located {
        Located::Source { offset: self.read }
    }
}

impl<R: Read> TextInput for GzMembers<R> {
    fn part(&self) -> u64 {
        self.index
    }

    fn locate(&self, size: u64) -> Located {
        if let Some(source) = self.source().filter(|s| s.failed) {
            return Located::Source {
                offset: source.read,
            };
        }
        Located::Member {
            index: self.index,
            start: self.start,
            size,
        }
    }
}

/// The error for a read that failed after line `line`; the lines from `member_line` on
/// came from the member the failure is in.
pub(super) fn read_failure(
    obj: &SourceObject,
    at: Located,
    e: std::io::Error,
    line: u64,
    member_line: u64,
) -> Error {
    let (kind, message) = match at {
        Located::Source { offset } => (
            e.kind(),
            format!("read failed at byte offset {offset}: {e}; stopped after line {line}"),
        ),
        Located::Member { index, start, size } => {
            let truncated = e.kind() == std::io::ErrorKind::UnexpectedEof;
            let of = if size > start {
                format!(" (of {size})")
            } else {
                String::new()
            };
            let mut m = format!(
                "gzip member {} at byte offset {start}{of} is {}: {e}; stopped after line {line}",
                index + 1,
                if truncated { "truncated" } else { "corrupt" },
            );
            if member_line <= line {
                m += &format!(" (lines {member_line} on came from that member)");
            }
            m += if truncated {
                "; the object ends inside that member"
            } else {
                "; the rest of the object is not read"
            };
            // Damage gets kinds of its own, for the hint.
            let kind = if truncated {
                std::io::ErrorKind::UnexpectedEof
            } else {
                std::io::ErrorKind::InvalidData
            };
            (kind, m)
        }
    };
    Error::io(&obj.path, std::io::Error::new(kind, message))
}
