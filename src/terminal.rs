//! Text bound for a terminal. Object keys, file names and log-stream names come from the
//! data: a key holding escape sequences must not move the cursor, retitle the window or
//! hide the lines before it when sageflow names it in an error or a warning.

use std::borrow::Cow;
use std::io::Write;

/// `s` with every control character but newline and tab written as `\u{..}`.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(escaped) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push(&mut out, c);
    }
    Cow::Owned(out)
}

fn escaped(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

fn push(out: &mut String, c: char) {
    if escaped(c) {
        out.push_str(&format!("\\u{{{:x}}}", c as u32));
    } else {
        out.push(c);
    }
}

/// A writer that makes what passes through [`printable`], except, when `colours`, the
/// colour sequences (`ESC [ digits ; … m`) the log formatter writes itself.
pub struct Printable<W> {
    inner: W,
    colours: bool,
}

impl<W> Printable<W> {
    pub fn new(inner: W, colours: bool) -> Self {
        Printable { inner, colours }
    }
}

impl<W: Write> Write for Printable<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let mut out = String::with_capacity(text.len());
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '\u{1b}' && self.colours {
                let rest = &text[i + 1..];
                let sgr = rest.strip_prefix('[').and_then(|r| {
                    let n = r.find(|x: char| !(x.is_ascii_digit() || x == ';'))?;
                    (r.as_bytes()[n] == b'm').then_some(n + 2)
                });
                if let Some(len) = sgr {
                    out.push('\u{1b}');
                    out.push_str(&rest[..len]);
                    for _ in 0..len {
                        chars.next();
                    }
                    continue;
                }
            }
            push(&mut out, c);
        }
        self.inner.write_all(out.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("logs/a.log.gz"), "logs/a.log.gz");
        assert_eq!(
            printable("x\u{1b}]0;owned\u{7}\u{1b}[2Jy\nz\tw\u{9b}"),
            "x\\u{1b}]0;owned\\u{7}\\u{1b}[2Jy\nz\tw\\u{9b}"
        );
        let mut out = Vec::new();
        Printable::new(&mut out, true)
            .write_all(b"\x1b[33mWARN\x1b[0m key=a\x1b[2Jb\r\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\u{1b}[33mWARN\u{1b}[0m key=a\\u{1b}[2Jb\\u{d}\n"
        );
        let mut out = Vec::new();
        Printable::new(&mut out, false)
            .write_all(b"\x1b[33mk")
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\\u{1b}[33mk");
    }
}
