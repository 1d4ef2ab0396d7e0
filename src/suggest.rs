//! "Did you mean …?" for names users type: flow-log fields, rules, columns. A typo must be
//! an error that names the likely intent, never a silently empty column or a no-op.

/// The candidate closest to `word` by edit distance (case, `-` and `_` ignored), when it is
/// close enough to be a plausible typo: at most a third of the longer name's length.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let norm = |s: &str| s.trim().to_ascii_lowercase().replace('_', "-");
    let w = norm(word);
    candidates
        .into_iter()
        .map(|c| {
            let n = norm(c);
            let d = strsim::levenshtein(&w, &n);
            (d, w.len().max(n.len()), c)
        })
        .filter(|(d, len, _)| *d > 0 && *d <= (len / 3).max(1))
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.cmp(b.2)))
        .map(|(_, _, c)| c)
}

/// ` (did you mean `x`?)`, or nothing when no candidate is close.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// ` (did you mean `a`, `b`?)` with up to `max` candidates near `word` (within two edits,
/// or containing it), sorted, or nothing: for a misspelt column among a hundred, where one
/// guess is too few and the whole list too many.
pub fn did_you_mean_any<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> String {
    let mut close: Vec<&str> = candidates
        .into_iter()
        .filter(|n| strsim::levenshtein(n, word) <= 2 || n.contains(word))
        .collect();
    close.sort_unstable();
    close.dedup();
    close.truncate(max);
    if close.is_empty() {
        return String::new();
    }
    let names: Vec<String> = close.iter().map(|c| format!("`{c}`")).collect();
    format!(" (did you mean {}?)", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_field() {
        let fields = ["pkt-srcaddr", "pkt-dstaddr", "srcaddr", "flow-direction"];
        assert_eq!(closest("pkt-scraddr", fields), Some("pkt-srcaddr"));
        assert_eq!(closest("flow_direction", fields), None, "the same name");
        assert_eq!(closest("flow-directon", fields), Some("flow-direction"));
        assert_eq!(closest("brand-new-field", fields), None);
        assert_eq!(did_you_mean("srcadr", fields), " (did you mean `srcaddr`?)");
        assert_eq!(did_you_mean("zzz", fields), "");
    }

    #[test]
    fn several_close_columns_are_listed_sorted_and_bounded() {
        let columns = ["srcaddr", "pkt_srcaddr", "dstaddr", "srcport", "bytes"];
        assert_eq!(
            did_you_mean_any("srcadr", columns, 5),
            " (did you mean `srcaddr`?)"
        );
        assert_eq!(
            did_you_mean_any("addr", columns, 2),
            " (did you mean `dstaddr`, `pkt_srcaddr`?)"
        );
        assert_eq!(did_you_mean_any("zzzzzz", columns, 5), "");
    }
}
