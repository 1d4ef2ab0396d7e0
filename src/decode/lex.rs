//! Byte scanners for flow-log tokens: where a token, a run of digits or a dotted quad
//! ends, eight or sixteen bytes at a time, and the integer and address checks the text
//! and Parquet decoders share. Each agrees with the obvious byte loop or `std` parser
//! (see the tests), only faster.

use std::net::IpAddr;

/// Decimal integers as `str::parse::<i64>` accepts them, with a fast path for plain digits
/// (every value AWS writes).
pub(super) fn parse_int(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 18 || !b.iter().all(u8::is_ascii_digit) {
        return s.parse::<i64>().ok();
    }
    Some(b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
}

/// End of the token starting at `i`: the next space or tab, or the end of the record.
/// Eight bytes at a time: string tokens (ids, names) are 12–24 bytes long, and a byte loop
/// mispredicts its exit on every one of them.
pub(super) fn token_end(b: &[u8], mut i: usize) -> usize {
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        // Bytes below 0x21 (space, tab, other controls); the lowest flagged byte is exact.
        let low = w.wrapping_sub(ONES * 0x21) & !w & HIGH;
        if low == 0 {
            i += 8;
            continue;
        }
        let j = i + (low.trailing_zeros() / 8) as usize;
        if b[j] == b' ' || b[j] == b'\t' {
            return j;
        }
        // Another control byte belongs to the token; rare, so finish byte by byte.
        i = j + 1;
        break;
    }
    while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
        i += 1;
    }
    i
}

/// The end of the token at `s` when it is the same as the earlier token `earlier`
pub(super) const ONES: u64 = 0x0101_0101_0101_0101;
pub(super) const HIGH: u64 = 0x8080_8080_8080_8080;

/// The digits starting at `s`: where they end, and their value (wrapping past 19 digits).
/// Eight bytes at a time: a byte loop mispredicts its exit on every number, and numbers
/// are a third of a record's fields (ports, counts, times).
pub(super) fn scan_digits(b: &[u8], s: usize) -> (usize, u64) {
    const POW10: [u64; 9] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
    ];
    let mut i = s;
    let mut v: u64 = 0;
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let k = (non_digits(w).trailing_zeros() / 8) as usize;
        if k == 0 {
            return (i, v);
        }
        v = v
            .wrapping_mul(POW10[k])
            .wrapping_add(leading_digits_value(w, k));
        i += k;
        if k < 8 {
            return (i, v);
        }
    }
    while i < b.len() && b[i].is_ascii_digit() {
        v = v.wrapping_mul(10).wrapping_add(u64::from(b[i] - b'0'));
        i += 1;
    }
    (i, v)
}

/// Where the digits starting at `s` end ([`scan_digits`] without the value, for fields
/// that are only checked).
pub(super) fn digits_end(b: &[u8], s: usize) -> usize {
    let mut i = s;
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let k = (non_digits(w).trailing_zeros() / 8) as usize;
        i += k;
        if k < 8 {
            return i;
        }
    }
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// High bit set in each byte of `w` that is not an ASCII digit (exact per byte: no carry
/// or borrow crosses bytes, as in "hasbetween" of the Bit Twiddling Hacks).
pub(super) fn non_digits(w: u64) -> u64 {
    let low7 = w & (ONES * 0x7F);
    let digit =
        (ONES * (127 + 0x3A)).wrapping_sub(low7) & !w & low7.wrapping_add(ONES * (127 - 0x2F));
    !digit & HIGH
}

/// Value of the first `k` (1..=8) bytes of `w`, all ASCII digits, the first the most
/// significant (little-endian load).
pub(super) fn leading_digits_value(w: u64, k: usize) -> u64 {
    // Shifting left drops the bytes after the number (a borrow from them only moves up)
    // and puts zero digits in front of it.
    let d = w.wrapping_sub(ONES * 0x30) << (8 * (8 - k));
    let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    (d.wrapping_mul(10_000) + (d >> 32)) & 0xFFFF_FFFF
}

/// End of a canonical dotted quad starting at `s` (what `Ipv4Addr`'s parser accepts)
/// that is followed by a separator or the end of the record; `None` for anything else.
/// Each octet is one eight-byte load from a 20-byte window, so no load is bounds-checked,
/// and the dot or separator after it is a byte of the same load; a byte loop mispredicts
/// the end of every octet.
pub(super) fn dotted_quad_end(b: &[u8], s: usize) -> Option<usize> {
    // The fourth octet starts at most 12 bytes in and is loaded whole.
    let Some(t) = b.get(s..s + 20) else {
        return dotted_quad_end_bytes(b, s);
    };
    let mut p = 0;
    let mut bad = false;
    for octet in 0..4 {
        // `p` is at most 12 here; the bound lets the loads go unchecked.
        let at = p.min(12);
        let w = u64::from_le_bytes(t[at..at + 8].try_into().expect("8 bytes"));
        let k = (non_digits(w).trailing_zeros() / 8) as usize;
        let next = (w >> (8 * k.min(7))) as u8;
        // One to three digits, no leading zero (as std's parser), three digits at most
        // "255" compared as big-endian bytes (which costs less than their value), then a
        // dot, or a separator after the fourth.
        bad |= k.wrapping_sub(1) >= 3;
        bad |= (k > 1) & (w as u8 == b'0');
        bad |= (k == 3) & ((w.swap_bytes() >> 40) > 0x32_3535);
        bad |= if octet < 3 {
            next != b'.'
        } else {
            (next != b' ') & (next != b'\t')
        };
        p += k + 1;
    }
    (!bad).then_some(s + p - 1)
}

pub(super) fn dotted_quad_end_bytes(b: &[u8], mut i: usize) -> Option<usize> {
    for octet in 0..4 {
        if octet > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let s = i;
        let mut v: u32 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i - s < 3 {
            v = v * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let len = i - s;
        if len == 0 || v > 255 || (len > 1 && b[s] == b'0') {
            return None;
        }
    }
    match b.get(i) {
        None | Some(b' ' | b'\t') => Some(i),
        _ => None,
    }
}

/// Whether `s` is an IPv4 or IPv6 address. Dotted quads (nearly every record) are checked
/// by hand: this runs two to four times per record.
pub(super) fn valid_ip(s: &str) -> bool {
    valid_ip_bytes(s.as_bytes())
}

pub(super) fn valid_ip_bytes(b: &[u8]) -> bool {
    if b.len() > 15 || b.contains(&b':') {
        return std::str::from_utf8(b).is_ok_and(|s| s.parse::<IpAddr>().is_ok());
    }
    let mut octets = 0;
    let mut value: u32 = 0;
    let mut digits = 0;
    for &c in b {
        match c {
            b'0'..=b'9' => {
                // No leading zeros, as std's parser.
                if digits == 1 && value == 0 {
                    return false;
                }
                value = value * 10 + u32::from(c - b'0');
                digits += 1;
                if value > 255 {
                    return false;
                }
            }
            b'.' => {
                if digits == 0 || octets == 3 {
                    return false;
                }
                octets += 1;
                value = 0;
                digits = 0;
            }
            _ => return false,
        }
    }
    octets == 3 && digits > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_fast_path_agrees_with_std() {
        for s in [
            "0",
            "443",
            "-5",
            "+7",
            "",
            "12a",
            "999999999999999999",
            "9223372036854775807",
            "9223372036854775808",
            "00012",
        ] {
            assert_eq!(parse_int(s), s.parse::<i64>().ok(), "{s}");
        }
    }

    #[test]
    fn ip_fast_path_agrees_with_std() {
        for s in [
            "10.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "a.b.c.d",
            "2001:db8::1",
            "::ffff:1.2.3.4",
            "",
            "1.2.3.04",
        ] {
            assert_eq!(valid_ip(s), s.parse::<IpAddr>().is_ok(), "{s}");
        }
    }

    #[test]
    fn token_scanners_agree_with_byte_loops() {
        let cases = [
            "",
            "a",
            "eni-0123456789abcdef0 x",
            "abcdefgh",
            "abcdefgh ",
            "abcdefg\tz",
            "ab\x01cdefghij k",
            "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9} x",
            "0123456789012345678901234",
        ];
        for c in cases {
            let b = c.as_bytes();
            let naive = b
                .iter()
                .position(|&x| x == b' ' || x == b'\t')
                .unwrap_or(b.len());
            assert_eq!(token_end(b, 0), naive, "{c:?}");
        }
        for c in [
            "10.0.0.1",
            "10.0.0.1 x",
            "255.255.255.255\t",
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.4x",
            "1.2.3.1000",
            "0.0.0.0",
            "2001:db8::1",
            "-",
        ] {
            let b = c.as_bytes();
            let end = b
                .iter()
                .position(|&x| x == b' ' || x == b'\t')
                .unwrap_or(b.len());
            let expect = c[..end]
                .parse::<std::net::Ipv4Addr>()
                .is_ok()
                .then_some(end);
            assert_eq!(dotted_quad_end(b, 0), expect, "{c:?}");
        }
    }

    #[test]
    fn dotted_quad_scanners_agree_with_std() {
        let octets = [
            "", "0", "00", "01", "1", "9", "10", "99", "100", "199", "249", "250", "255", "256",
            "300", "999", "1000", "a", "1a",
        ];
        let mut n = 0;
        for a in octets {
            for b in ["0", "01", "255", "256", "7"] {
                for c in octets {
                    for (sep, d) in [(".", "4"), (".", "255"), (".", "0"), (".", "00"), (".", "")]
                        .into_iter()
                        .chain(octets.iter().map(|o| (".", *o)))
                    {
                        for tail in ["", " x", "\tx", ".5 x", "x", "/8 x", " 10.0.0.1 443 80 6"] {
                            let ip = format!("{a}.{b}.{c}{sep}{d}");
                            let expect = ip.parse::<std::net::Ipv4Addr>().is_ok();
                            for pad in ["", "xxxxxxxxxxxxxxxxxxxxxxxx"] {
                                let text = format!("{ip}{tail}{pad}");
                                let bytes = text.as_bytes();
                                let end = bytes
                                    .iter()
                                    .position(|&x| x == b' ' || x == b'\t')
                                    .unwrap_or(bytes.len());
                                let want = (expect && end == ip.len()).then_some(end);
                                assert_eq!(dotted_quad_end(bytes, 0), want, "{text:?}");
                                assert_eq!(dotted_quad_end_bytes(bytes, 0), want, "{text:?}");
                                n += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(n > 100_000);
    }

    #[test]
    fn digit_scanner_agrees_with_a_byte_loop() {
        // Every length from 0 to 24 digits, at every offset, followed by each kind of byte.
        let digits = "918273645509182736455091";
        for len in 0..=digits.len() {
            for pad in 0..9 {
                for tail in ["", " ", "\t", "x", "-", "/", ":", "\u{e9}", "\u{7f}"] {
                    let text = format!("{}{}{tail}", " ".repeat(pad), &digits[..len]);
                    let b = text.as_bytes();
                    let mut end = pad;
                    let mut v: u64 = 0;
                    while end < b.len() && b[end].is_ascii_digit() {
                        v = v.wrapping_mul(10).wrapping_add(u64::from(b[end] - b'0'));
                        end += 1;
                    }
                    assert_eq!(scan_digits(b, pad), (end, v), "{text:?}");
                    assert_eq!(digits_end(b, pad), end, "{text:?}");
                }
            }
        }
        for byte in 0..=255u8 {
            let w = u64::from_le_bytes([byte, b'1', b'2', b'3', b'4', b'5', b'6', b'7']);
            assert_eq!(non_digits(w) & 0x80 != 0, !byte.is_ascii_digit(), "{byte}");
        }
    }
}
