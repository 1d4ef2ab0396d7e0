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
}
