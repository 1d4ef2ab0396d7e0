//! Text flow-log records (plain lines, header lines, `{"message": …}` wrappers) → Arrow.
//!
//! The decoder is push-based and does no IO: callers hand it byte chunks
//! ([`TextDecoder::decode`]) or single lines ([`TextDecoder::decode_line`]) and take
//! batches with [`TextDecoder::flush`]. Every field of every record is checked, whether
//! or not its column is projected, so the set of accepted rows never depends on the query.

use std::net::IpAddr;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Int32Builder, Int64Builder, RecordBatch, RecordBatchOptions, StringViewBuilder,
    TimestampSecondBuilder,
};

use super::filter::Test;
use super::{DecodeOptions, Reject, normalise_epoch};
use crate::error::Result;
use crate::format::{ColumnSource, FIELDS, Kind, Layout, Slot};

/// Longest line accepted; longer ones are rejected without being buffered whole.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Bytes per data block of a string column (values over 12 bytes are stored in blocks).
const STRING_BLOCK: u32 = 64 * 1024;

enum Builder {
    Str(StringViewBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    Ts(TimestampSecondBuilder),
}

impl Builder {
    fn for_source(source: &ColumnSource, capacity: usize) -> Self {
        let kind = match source {
            ColumnSource::Known(i) => FIELDS[*i].kind,
            // Enrichment columns are never decoded; they come from the enrich stage.
            ColumnSource::Unknown(_) | ColumnSource::Enriched(_) => Kind::Str,
            ColumnSource::Time { .. } => {
                return Builder::Ts(TimestampSecondBuilder::with_capacity(capacity));
            }
            ColumnSource::Provenance { line: false } => Kind::Str,
            ColumnSource::Provenance { line: true } => Kind::Int64,
        };
        match kind {
            // Fixed blocks: the builder lives across batches, and its default doubling
            // reaches 2 MiB blocks per column, so every batch carried ~30 MB of mostly
            // empty buffers (export's sort failed to fit even one in a small pool).
            Kind::Str | Kind::Ip => Builder::Str(
                StringViewBuilder::with_capacity(capacity).with_fixed_block_size(STRING_BLOCK),
            ),
            Kind::Int32 => Builder::I32(Int32Builder::with_capacity(capacity)),
            Kind::Int64 | Kind::Epoch => Builder::I64(Int64Builder::with_capacity(capacity)),
        }
    }

    fn append_null(&mut self) {
        match self {
            Builder::Str(b) => b.append_null(),
            Builder::I32(b) => b.append_null(),
            Builder::I64(b) => b.append_null(),
            Builder::Ts(b) => b.append_null(),
        }
    }

    fn append(&mut self, v: &Val, text: &str) {
        match (self, v) {
            (b, Val::Null) => b.append_null(),
            (Builder::Str(b), Val::Str(s, e)) => b.append_value(&text[*s as usize..*e as usize]),
            (Builder::I32(b), Val::Int(i)) => b.append_value(*i as i32),
            (Builder::I64(b), Val::Int(i)) => b.append_value(*i),
            (Builder::Ts(b), Val::Int(i)) => b.append_value(*i),
            (b, _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::Ts(b) => Arc::new(b.finish().with_timezone("UTC")),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Val {
    Null,
    Int(i64),
    /// Byte range of the token in the record text.
    Str(u32, u32),
}

/// Where the current layout came from, for reject messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// `--log-format`: header lines are then only skipped.
    LogFormat,
    Header,
    /// The flow log's `LogFormat` in `describe-flow-logs`, for the flow-log id in the key.
    FlowLog,
    Default,
}

impl Origin {
    fn describe(self) -> &'static str {
        match self {
            Origin::LogFormat => "--log-format",
            Origin::Header => "header line",
            Origin::FlowLog => "LogFormat of the flow log in describe-flow-logs",
            Origin::Default => "default v2 format",
        }
    }
}

/// Where one token position of the current layout goes.
struct SlotPlan {
    kind: Kind,
    /// Builder receiving the value, when the column is projected.
    out: Option<usize>,
    /// Builder of `start_time`/`end_time` fed by this `start`/`end` slot.
    time_out: Option<usize>,
    /// Whether the value is used (output, or the time window): only then is it computed
    /// and stored; the others are only checked (but addresses are stored for `same_as`).
    needed: bool,
    /// AWS field name, for reject messages.
    name: String,
    /// For `pkt-srcaddr`/`pkt-dstaddr`: the position of `srcaddr`/`dstaddr` when it comes
    /// earlier. They hold the same address unless traffic went through an intermediate
    /// layer, and a token equal to one already checked needs no check of its own.
    same_as: Option<usize>,
}

/// Where a pushed-down filter finds its value.
#[derive(Debug, Clone, Copy)]
enum FilterAt {
    Slot(usize),
    /// `interface_id` in a layout without it: the object's ENI, when it is known.
    DefaultInterface,
    /// A field the layout does not have: NULL, which fails every filter.
    Null,
}

struct Plan {
    slots: Vec<SlotPlan>,
    filters: Vec<(FilterAt, Test)>,
    /// (token position, builder) for every projected value, so a record's append loop
    /// visits only those, not every field of the layout.
    appends: Vec<(usize, usize)>,
    /// Projected builders no slot of the layout feeds: always NULL.
    missing: Vec<usize>,
    /// The builder of a projected `interface_id` the layout does not feed.
    interface_out: Option<usize>,
    /// The builders of projected `source_object` (made whole at flush: one name for every
    /// row) and `source_line`.
    object_out: Option<usize>,
    line_out: Option<usize>,
    start_pos: Option<usize>,
    end_pos: Option<usize>,
}

/// Decodes the text records of one object.
pub struct TextDecoder {
    opts: Arc<DecodeOptions>,
    object: String,
    layout: Layout,
    origin: Origin,
    plan: Plan,
    builders: Vec<Builder>,
    rows: usize,
    line_no: u64,
    /// Records seen (rows + rejected + outside the time window).
    pub records: u64,
    pub outside_window: u64,
    /// Valid records the pushed-down filters dropped (counted as rows in the run's stats).
    pub filtered: u64,
    pub rejected: u64,
    warned_header: bool,
    tokens: Vec<(u32, u32)>,
    vals: Vec<Val>,
    /// `interface_id` for layouts without the field (a CloudWatch stream is one ENI's).
    default_interface: Option<String>,
    /// The last header line read, which a later read of the rest of the file starts from.
    last_header: Option<String>,
}

impl TextDecoder {
    pub fn new(opts: Arc<DecodeOptions>, object: impl Into<String>) -> Self {
        let (layout, origin) = match &opts.log_format {
            Some(l) => (l.clone(), Origin::LogFormat),
            None => (Layout::default_v2(), Origin::Default),
        };
        let builders = opts
            .projection
            .iter()
            .map(|&c| Builder::for_source(&opts.schema.sources()[c], opts.batch_size))
            .collect();
        let plan = make_plan(&opts, &layout);
        TextDecoder {
            opts,
            object: object.into(),
            layout,
            origin,
            plan,
            builders,
            rows: 0,
            line_no: 0,
            records: 0,
            outside_window: 0,
            filtered: 0,
            rejected: 0,
            warned_header: false,
            tokens: Vec::with_capacity(64),
            vals: Vec::with_capacity(64),
            default_interface: None,
            last_header: None,
        }
    }

    /// Starts from the format of flow log `id` (from the object's key) when the inventory
    /// has it and `--log-format` was not given; a header line still takes precedence.
    pub fn with_flow_log(mut self, id: Option<&str>) -> Self {
        if self.origin == Origin::Default
            && let Some(layout) = id.and_then(|id| self.opts.flow_log_formats.get(id))
        {
            self.plan = make_plan(&self.opts, layout);
            self.layout = layout.clone();
            self.origin = Origin::FlowLog;
        }
        self
    }

    /// Fills `interface_id` with `eni` when the record format has no `interface-id`.
    pub fn with_default_interface(mut self, eni: Option<&str>) -> Self {
        self.default_interface = eni.map(str::to_string);
        self
    }

    /// Takes up a file after its first `lines` lines (read by an earlier run), with the
    /// header line that was in force there: line numbers and columns are the file's.
    pub fn resume(&mut self, header: Option<&str>, lines: u64) -> Result<()> {
        if let Some(h) = header {
            self.decode_str(h)?;
        }
        self.line_no = lines;
        Ok(())
    }

    /// The last header line read.
    pub fn last_header(&self) -> Option<&str> {
        self.last_header.as_deref()
    }

    /// Rows buffered and not yet flushed.
    pub fn buffered(&self) -> usize {
        self.rows
    }

    /// Lines seen so far (1-based number of the last line).
    pub fn line(&self) -> u64 {
        self.line_no
    }

    pub fn is_full(&self) -> bool {
        self.rows >= self.opts.batch_size
    }

    /// Decodes complete lines from `buf`, stopping early when a batch is full. Returns the
    /// bytes consumed; an incomplete last line is left for the next call unless `eof`.
    pub fn decode(&mut self, buf: &[u8], eof: bool) -> Result<usize> {
        // UTF-8 is checked for a window of whole lines at once: for one ~200-byte line the
        // call costs more than the check. The window bounds what is checked again when a
        // batch fills before its end.
        const WINDOW: usize = 64 * 1024;
        let mut pos = 0;
        while pos < buf.len() && !self.is_full() {
            let rest = &buf[pos..];
            let end = if eof && rest.len() <= WINDOW {
                rest.len()
            } else {
                match memchr::memrchr(b'\n', &rest[..rest.len().min(WINDOW)]) {
                    Some(i) => i + 1,
                    // A line longer than the window, or the incomplete last one.
                    None => match memchr::memchr(b'\n', rest) {
                        Some(n) => {
                            self.decode_line(&rest[..n])?;
                            pos += n + 1;
                            continue;
                        }
                        None if eof => {
                            self.decode_line(rest)?;
                            return Ok(buf.len());
                        }
                        None => break,
                    },
                }
            };
            let region = &rest[..end];
            // When the window is not valid UTF-8, each line is checked to find the bad one.
            let text = simdutf8::basic::from_utf8(region).ok();
            let mut p = 0;
            while p < end && !self.is_full() {
                let n = memchr::memchr(b'\n', &region[p..]).unwrap_or(end - p);
                match text {
                    Some(t) => self.decode_str(&t[p..p + n])?,
                    None => self.decode_line(&region[p..p + n])?,
                }
                p += n + 1;
            }
            pos += p.min(end);
        }
        Ok(pos)
    }

    /// Counts a line that was too long to buffer, and rejects it.
    pub fn reject_long_line(&mut self, len: u64) -> Result<()> {
        self.line_no += 1;
        self.records += 1;
        self.reject(
            None,
            None,
            format!("line is {len} bytes long, over the {MAX_LINE_BYTES}-byte limit"),
            "",
        )
    }

    /// Counts the unreadable rest of a damaged object as one rejected record, at the line
    /// after the last one read.
    pub fn reject_unreadable_rest(&mut self, reason: String) -> Result<()> {
        self.line_no += 1;
        self.records += 1;
        self.reject(None, None, reason, "")
    }

    /// Decodes one line (without its newline).
    pub fn decode_line(&mut self, line: &[u8]) -> Result<()> {
        // std's error says where the invalid byte is.
        let checked = simdutf8::basic::from_utf8(line).or_else(|_| std::str::from_utf8(line));
        match checked {
            Ok(text) => self.decode_str(text),
            Err(e) => {
                self.line_no += 1;
                let line = match line.last() {
                    Some(b'\r') => &line[..line.len() - 1],
                    _ => line,
                };
                self.records += 1;
                let shown = String::from_utf8_lossy(line).into_owned();
                self.reject(
                    None,
                    None,
                    format!(
                        "not UTF-8 text (invalid byte at column {})",
                        e.valid_up_to() + 1
                    ),
                    &shown,
                )
            }
        }
    }

    /// Decodes one line (without its newline) already known to be UTF-8.
    fn decode_str(&mut self, text: &str) -> Result<()> {
        self.line_no += 1;
        let text = text.strip_suffix('\r').unwrap_or(text);
        let trimmed = trim_record_start(text);
        if trimmed.is_empty() {
            return Ok(());
        }
        if trimmed.starts_with('{') {
            return self.decode_json(trimmed);
        }
        self.decode_text(text)
    }

    /// `{"message": "…"}` wrappers, several per line when a delivery concatenated them.
    fn decode_json(&mut self, text: &str) -> Result<()> {
        let stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
        for value in stream {
            match value {
                Ok(serde_json::Value::Object(map)) => match map.get("message") {
                    Some(serde_json::Value::String(msg)) => {
                        let msg = msg.clone();
                        self.decode_text(&msg)?;
                    }
                    _ => {
                        self.records += 1;
                        return self.reject(
                            Some("message".into()),
                            None,
                            "JSON object has no `message` string".into(),
                            text,
                        );
                    }
                },
                Ok(_) | Err(_) => {
                    self.records += 1;
                    return self.reject(
                        None,
                        None,
                        "line starts with `{` but is not a JSON object".into(),
                        text,
                    );
                }
            }
        }
        Ok(())
    }

    fn decode_text(&mut self, text: &str) -> Result<()> {
        let first = trim_record_start(text)
            .as_bytes()
            .first()
            .copied()
            .unwrap_or(b' ');
        if first.is_ascii_lowercase()
            && let Some(layout) = Layout::from_header(text)
        {
            self.last_header = Some(text.to_string());
            return self.header(layout);
        }
        self.records += 1;
        if !self.fast_fields(text.as_bytes()) && !self.checked_fields(text)? {
            return Ok(());
        }
        if let Some(w) = &self.opts.window {
            let start = self.plan.start_pos.and_then(|p| int_of(self.vals[p]));
            let end = self.plan.end_pos.and_then(|p| int_of(self.vals[p]));
            if !w.overlaps(start, end) {
                self.outside_window += 1;
                return Ok(());
            }
        }
        if !self.plan.filters.is_empty() && !self.passes(text) {
            self.filtered += 1;
            return Ok(());
        }
        for &(pos, b) in &self.plan.appends {
            self.builders[b].append(&self.vals[pos], text);
        }
        for &b in &self.plan.missing {
            match (&self.default_interface, self.plan.interface_out) {
                (Some(eni), Some(i)) if i == b => {
                    if let Builder::Str(s) = &mut self.builders[b] {
                        s.append_value(eni);
                    }
                }
                _ => self.builders[b].append_null(),
            }
        }
        if let Some(b) = self.plan.line_out
            && let Builder::I64(l) = &mut self.builders[b]
        {
            l.append_value(self.line_no as i64);
        }
        self.rows += 1;
        Ok(())
    }

    /// Whether the decoded record passes every pushed-down filter.
    fn passes(&self, text: &str) -> bool {
        self.plan.filters.iter().all(|(at, test)| match *at {
            FilterAt::Slot(p) => match self.vals[p] {
                Val::Null => false,
                Val::Int(i) => test.int(Some(i)),
                Val::Str(s, e) => test.text(Some(&text.as_bytes()[s as usize..e as usize])),
            },
            FilterAt::DefaultInterface => {
                test.text(self.default_interface.as_deref().map(str::as_bytes))
            }
            FilterAt::Null => false,
        })
    }

    /// The general path: every token checked with the exact rules and, when one fails, the
    /// record is rejected naming the field. Returns whether the record was accepted.
    fn checked_fields(&mut self, text: &str) -> Result<bool> {
        self.tokens.clear();
        let bytes = text.as_bytes();
        // Separators found with SIMD; runs of them (a published record has a double space)
        // give empty tokens, which are skipped.
        let mut s = 0;
        for i in memchr::memchr2_iter(b' ', b'\t', bytes).chain(std::iter::once(bytes.len())) {
            if i > s {
                self.tokens.push((s as u32, i as u32));
            }
            s = i + 1;
        }
        let expected = self.plan.slots.len();
        if self.tokens.len() != expected {
            let reason = format!(
                "expected {expected} fields ({}), found {}",
                self.origin.describe(),
                self.tokens.len()
            );
            return self.reject_false(None, None, reason, text);
        }
        self.vals.clear();
        for (pos, &(s, e)) in self.tokens.iter().enumerate() {
            let tok = &text[s as usize..e as usize];
            if tok == "-" {
                self.vals.push(Val::Null);
                continue;
            }
            let slot = &self.plan.slots[pos];
            let v = match slot.kind {
                Kind::Str => Val::Str(s, e),
                Kind::Ip => {
                    if !valid_ip(tok) {
                        let name = slot.name.clone();
                        return self.reject_false(
                            Some(name),
                            Some(tok.to_string()),
                            "not an IPv4 or IPv6 address".into(),
                            text,
                        );
                    }
                    Val::Str(s, e)
                }
                Kind::Int32 => match parse_int(tok).and_then(|n| i32::try_from(n).ok()) {
                    Some(n) => Val::Int(i64::from(n)),
                    None => {
                        let name = slot.name.clone();
                        return self.reject_false(
                            Some(name),
                            Some(tok.to_string()),
                            "not a 32-bit integer".into(),
                            text,
                        );
                    }
                },
                Kind::Int64 | Kind::Epoch => match parse_int(tok) {
                    Some(n) if slot.kind == Kind::Epoch => Val::Int(normalise_epoch(n)),
                    Some(n) => Val::Int(n),
                    None => {
                        let name = slot.name.clone();
                        return self.reject_false(
                            Some(name),
                            Some(tok.to_string()),
                            "not a 64-bit integer".into(),
                            text,
                        );
                    }
                },
            };
            self.vals.push(v);
        }
        Ok(true)
    }

    /// Fast path, one pass over the record with values parsed while their token is found,
    /// for the shape AWS writes (plain digits, dotted quads, `-`). Anything else returns
    /// false and goes through [`Self::checked_fields`], so both accept exactly the same
    /// records and the rejects keep their messages. This is most of the decoder's time:
    /// a separate tokenising pass (even with SIMD searches, which cost more than they save
    /// on 2–20-byte tokens) and re-reading each token to parse it was twice as slow.
    fn fast_fields(&mut self, b: &[u8]) -> bool {
        let sep = |c: u8| c == b' ' || c == b'\t';
        let n = b.len();
        let mut i = 0;
        // Values are stored by position; unneeded positions keep stale values, never read
        // (but addresses, always stored for `same_as`).
        self.vals.resize(self.plan.slots.len(), Val::Null);
        for (pos, slot) in self.plan.slots.iter().enumerate() {
            while i < n && sep(b[i]) {
                i += 1;
            }
            if i == n {
                return false;
            }
            let s = i;
            // Unneeded addresses take the path below: they are stored for `same_as`.
            if !slot.needed && slot.kind != Kind::Ip {
                match slot.kind {
                    Kind::Int32 | Kind::Int64 | Kind::Epoch => {
                        i = digits_end(b, s);
                        let len = i - s;
                        if i < n && !sep(b[i]) {
                            if len == 0 && b[i] == b'-' && (i + 1 == n || sep(b[i + 1])) {
                                i += 1;
                                continue;
                            }
                            return false;
                        }
                        // Nine digits always fit an i32; ten may not.
                        if len == 0
                            || len > 18
                            || (slot.kind == Kind::Int32
                                && len > 9
                                && scan_digits(b, s).1 > i32::MAX as u64)
                        {
                            return false;
                        }
                    }
                    _ => i = token_end(b, s),
                }
                continue;
            }
            let v = match slot.kind {
                Kind::Int32 | Kind::Int64 | Kind::Epoch => {
                    let (e, v) = scan_digits(b, s);
                    // Past 18 digits `v` has wrapped; such values are thrown away below.
                    let v = v as i64;
                    i = e;
                    let len = i - s;
                    if i < n && !sep(b[i]) {
                        if len == 0 && b[i] == b'-' && (i + 1 == n || sep(b[i + 1])) {
                            i += 1;
                            self.vals[pos] = Val::Null;
                            continue;
                        }
                        return false;
                    }
                    // 18 digits cannot overflow an i64; longer values take the checked path.
                    if len == 0 || len > 18 {
                        return false;
                    }
                    match slot.kind {
                        Kind::Int32 if v > i64::from(i32::MAX) => return false,
                        Kind::Epoch => Val::Int(normalise_epoch(v)),
                        _ => Val::Int(v),
                    }
                }
                // Addresses are stored whether needed or not: a later `pkt-` field may be
                // the same token.
                Kind::Ip => match slot
                    .same_as
                    .and_then(|p| same_token(b, s, self.vals[p]))
                    .or_else(|| dotted_quad_end(b, s))
                {
                    Some(e) => {
                        i = e;
                        Val::Str(s as u32, e as u32)
                    }
                    None => {
                        i = token_end(b, s);
                        let tok = &b[s..i];
                        if tok == b"-" {
                            Val::Null
                        } else if valid_ip_bytes(tok) {
                            Val::Str(s as u32, i as u32)
                        } else {
                            return false;
                        }
                    }
                },
                Kind::Str => {
                    i = token_end(b, s);
                    if &b[s..i] == b"-" {
                        Val::Null
                    } else {
                        Val::Str(s as u32, i as u32)
                    }
                }
            };
            self.vals[pos] = v;
        }
        while i < n && sep(b[i]) {
            i += 1;
        }
        i == n
    }

    fn header(&mut self, layout: Layout) -> Result<()> {
        if self.origin == Origin::LogFormat {
            if layout != self.layout && !self.warned_header {
                self.warned_header = true;
                tracing::warn!(
                    object = %self.object,
                    line = self.line_no,
                    "header line differs from --log-format; using --log-format"
                );
            }
            return Ok(());
        }
        if layout != self.layout {
            if !self.opts.allow_unknown_fields {
                layout.check_known(&format!("{}, line {}, header", self.object, self.line_no))?;
            }
            for name in layout.unknown() {
                if self.opts.schema.index_of(&name).is_none() {
                    tracing::warn!(object = %self.object, field = %name, "unknown field in header line; it is not a column of this table");
                }
            }
            self.plan = make_plan(&self.opts, &layout);
            self.layout = layout;
        }
        self.origin = Origin::Header;
        Ok(())
    }

    fn reject_false(
        &mut self,
        field: Option<String>,
        value: Option<String>,
        reason: String,
        record: &str,
    ) -> Result<bool> {
        self.reject(field, value, reason, record).map(|()| false)
    }

    fn reject(
        &mut self,
        field: Option<String>,
        value: Option<String>,
        reason: String,
        record: &str,
    ) -> Result<()> {
        self.rejected += 1;
        self.opts.rejects.reject(Reject {
            object: self.object.clone(),
            line: self.line_no,
            field,
            value,
            reason,
            record: record.to_string(),
        })
    }

    /// Takes the buffered rows as a batch.
    pub fn flush(&mut self) -> Result<Option<RecordBatch>> {
        if self.rows == 0 {
            return Ok(None);
        }
        let rows = std::mem::take(&mut self.rows);
        let mut columns: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        if let Some(b) = self.plan.object_out {
            columns[b] = super::repeated_name(&self.object, rows);
        }
        let batch = RecordBatch::try_new_with_options(
            self.opts.output_schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?;
        Ok(Some(batch))
    }
}

/// `text` without leading whitespace. Records start with a digit, and `trim_start` decodes
/// characters, so it is skipped for them.
fn trim_record_start(text: &str) -> &str {
    if text.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        text
    } else {
        text.trim_start()
    }
}

/// Decimal integers as `str::parse::<i64>` accepts them, with a fast path for plain digits
/// (every value AWS writes).
fn parse_int(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 18 || !b.iter().all(u8::is_ascii_digit) {
        return s.parse::<i64>().ok();
    }
    Some(b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
}

/// End of the token starting at `i`: the next space or tab, or the end of the record.
/// Eight bytes at a time: string tokens (ids, names) are 12–24 bytes long, and a byte loop
/// mispredicts its exit on every one of them.
fn token_end(b: &[u8], mut i: usize) -> usize {
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
/// (an address already checked in this record), followed by a separator or the record's end.
fn same_token(b: &[u8], s: usize, earlier: Val) -> Option<usize> {
    let Val::Str(ps, pe) = earlier else {
        return None;
    };
    let (ps, len) = (ps as usize, (pe - ps) as usize);
    let e = s + len;
    // A dotted quad is compared as one 16-byte word.
    let same = match (b.get(s..s + 16), b.get(ps..ps + 16)) {
        (Some(x), Some(y)) if len < 16 => {
            let x = u128::from_le_bytes(x.try_into().expect("16 bytes"));
            let y = u128::from_le_bytes(y.try_into().expect("16 bytes"));
            (x ^ y) & ((1u128 << (8 * len)) - 1) == 0
        }
        _ => b.get(s..e) == Some(&b[ps..ps + len]),
    };
    match b.get(e) {
        _ if !same => None,
        None | Some(b' ' | b'\t') => Some(e),
        _ => None,
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The digits starting at `s`: where they end, and their value (wrapping past 19 digits).
/// Eight bytes at a time: a byte loop mispredicts its exit on every number, and numbers
/// are a third of a record's fields (ports, counts, times).
fn scan_digits(b: &[u8], s: usize) -> (usize, u64) {
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
fn digits_end(b: &[u8], s: usize) -> usize {
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
fn non_digits(w: u64) -> u64 {
    let low7 = w & (ONES * 0x7F);
    let digit =
        (ONES * (127 + 0x3A)).wrapping_sub(low7) & !w & low7.wrapping_add(ONES * (127 - 0x2F));
    !digit & HIGH
}

/// Value of the first `k` (1..=8) bytes of `w`, all ASCII digits, the first the most
/// significant (little-endian load).
fn leading_digits_value(w: u64, k: usize) -> u64 {
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
fn dotted_quad_end(b: &[u8], s: usize) -> Option<usize> {
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

fn dotted_quad_end_bytes(b: &[u8], mut i: usize) -> Option<usize> {
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

fn valid_ip_bytes(b: &[u8]) -> bool {
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

fn int_of(v: Val) -> Option<i64> {
    match v {
        Val::Int(i) => Some(i),
        _ => None,
    }
}

fn make_plan(opts: &DecodeOptions, layout: &Layout) -> Plan {
    let sources = opts.schema.sources();
    let out_of =
        |source: &ColumnSource| opts.projection.iter().position(|&c| &sources[c] == source);
    let mut fed = vec![false; opts.projection.len()];
    let object_out = out_of(&ColumnSource::Provenance { line: false });
    let line_out = out_of(&ColumnSource::Provenance { line: true });
    for b in object_out.iter().chain(line_out.iter()) {
        fed[*b] = true;
    }
    let mut slots = Vec::with_capacity(layout.slots.len());
    let mut start_pos = None;
    let mut end_pos = None;
    for (pos, slot) in layout.slots.iter().enumerate() {
        let (source, name) = match slot {
            Slot::Known(i) => (ColumnSource::Known(*i), FIELDS[*i].name.to_string()),
            Slot::Unknown(c) => (ColumnSource::Unknown(c.clone()), c.replace('_', "-")),
        };
        let out = out_of(&source);
        let mut time_out = None;
        let mut needed = out.is_some();
        if let Slot::Known(i) = slot {
            match FIELDS[*i].column {
                "start" => {
                    start_pos = Some(pos);
                    time_out = out_of(&ColumnSource::Time { end: false });
                }
                "end" => {
                    end_pos = Some(pos);
                    time_out = out_of(&ColumnSource::Time { end: true });
                }
                _ => {}
            }
        }
        for b in out.iter().chain(time_out.iter()) {
            fed[*b] = true;
        }
        // The time window reads `start` and `end`.
        let is_time = start_pos == Some(pos) || end_pos == Some(pos);
        needed |= time_out.is_some() || (is_time && opts.window.is_some());
        let same_as = match slot {
            Slot::Known(i) => match FIELDS[*i].column {
                "pkt_srcaddr" => Some("srcaddr"),
                "pkt_dstaddr" => Some("dstaddr"),
                _ => None,
            },
            Slot::Unknown(_) => None,
        }
        .and_then(|column| {
            layout.slots[..pos]
                .iter()
                .position(|s| matches!(s, Slot::Known(k) if FIELDS[*k].column == column))
        });
        slots.push(SlotPlan {
            kind: slot.kind(),
            out,
            time_out,
            needed,
            name,
            same_as,
        });
    }
    let appends = slots
        .iter()
        .enumerate()
        .flat_map(|(pos, s)| {
            s.out
                .iter()
                .chain(s.time_out.iter())
                .map(move |&b| (pos, b))
        })
        .collect();
    let missing = fed
        .iter()
        .enumerate()
        .filter(|(_, f)| !**f)
        .map(|(i, _)| i)
        .collect();
    let interface_out = crate::format::lookup("interface_id").and_then(|k| {
        let b = out_of(&ColumnSource::Known(k))?;
        (!fed[b]).then_some(b)
    });
    let filters = opts
        .filters
        .iter()
        .map(|f| {
            let source = &sources[f.column];
            let at = match layout
                .slots
                .iter()
                .position(|s| matches!(s, Slot::Known(k) if *source == ColumnSource::Known(*k)))
            {
                Some(pos) => {
                    slots[pos].needed = true;
                    FilterAt::Slot(pos)
                }
                None if matches!(source, ColumnSource::Known(k) if FIELDS[*k].column == "interface_id") => {
                    FilterAt::DefaultInterface
                }
                None => FilterAt::Null,
            };
            (at, f.test.clone())
        })
        .collect();
    Plan {
        slots,
        filters,
        appends,
        missing,
        interface_out,
        object_out,
        line_out,
        start_pos,
        end_pos,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{RejectSink, TimeWindow};
    use crate::format::FlowSchema;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int64Type;

    fn decoder(
        format: Option<&str>,
        projection: Option<Vec<&str>>,
        window: Option<TimeWindow>,
        strict: bool,
    ) -> (TextDecoder, Arc<RejectSink>) {
        let schema = FlowSchema::default();
        let projection = projection.map(|cols| {
            cols.iter()
                .map(|c| schema.index_of(c).expect("column"))
                .collect()
        });
        let sink = Arc::new(RejectSink::new(strict, None));
        let opts = DecodeOptions::new(
            schema,
            projection,
            100,
            window,
            format.map(|f| Layout::parse(f).unwrap()),
            sink.clone(),
        );
        (TextDecoder::new(Arc::new(opts), "test.log"), sink)
    }

    const GOOD: &str =
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1439387263 1439387264 ACCEPT OK";

    #[test]
    fn dash_is_null_everywhere_and_unknown_account_is_text() {
        let (mut d, sink) = decoder(None, None, None, false);
        d.decode_line(b"2 unknown eni-1 - - - - - - - 1431280876 1431280934 - NODATA")
            .unwrap();
        let b = d.flush().unwrap().unwrap();
        assert_eq!(sink.count(), 0);
        assert_eq!(
            b.column_by_name("account_id")
                .unwrap()
                .as_string_view()
                .value(0),
            "unknown"
        );
        for c in [
            "srcaddr", "srcport", "protocol", "packets", "bytes", "action",
        ] {
            assert!(b.column_by_name(c).unwrap().is_null(0), "{c}");
        }
        assert!(b.column_by_name("start_time").unwrap().is_valid(0));
    }

    #[test]
    fn malformed_lines_are_rejected_with_line_field_and_value() {
        let (mut d, sink) = decoder(None, None, None, false);
        let input = format!(
            "{GOOD}\n2 123456789010 eni-1 10.0.0.1 not-an-ip 443 49152 6 10 840 1 2 ACCEPT OK\n\n{GOOD}\n2 1 eni-1 10.0.0.1 10.0.0.2 443 x 6 10 840 1 2 ACCEPT OK\ntoo few fields\n2 1 eni-1 10.0.0.1 10.0.0.2 99999999999 1 6 10 840 1 2 ACCEPT OK\n"
        );
        let used = d.decode(input.as_bytes(), true).unwrap();
        assert_eq!(used, input.len());
        assert_eq!(d.flush().unwrap().unwrap().num_rows(), 2);
        assert_eq!(sink.count(), 4);
        assert_eq!(d.records, 6);
        let r = sink.first();
        assert_eq!(
            (r[0].line, r[0].field.as_deref(), r[0].value.as_deref()),
            (2, Some("dstaddr"), Some("not-an-ip"))
        );
        assert_eq!((r[1].line, r[1].field.as_deref()), (5, Some("dstport")));
        assert_eq!((r[2].line, r[2].field.as_deref()), (6, None));
        assert!(
            r[2].reason.contains("expected 14 fields"),
            "{}",
            r[2].reason
        );
        assert_eq!((r[3].line, r[3].field.as_deref()), (7, Some("srcport")));
    }

    #[test]
    fn strict_turns_the_first_reject_into_an_error() {
        let (mut d, _) = decoder(None, None, None, true);
        d.decode_line(GOOD.as_bytes()).unwrap();
        let e = d.decode_line(b"bogus").unwrap_err();
        assert!(e.to_string().contains("test.log:2"), "{e}");
    }

    #[test]
    fn header_sets_layout_and_repeated_header_is_skipped() {
        let (mut d, sink) = decoder(None, Some(vec!["srcaddr", "dstport", "bytes"]), None, false);
        let input = "dstport srcaddr bytes\n443 10.0.0.9 5\ndstport srcaddr bytes\n22 10.0.0.8 6\nbytes dstport srcaddr\n7 80 10.0.0.7\n";
        d.decode(input.as_bytes(), true).unwrap();
        let b = d.flush().unwrap().unwrap();
        assert_eq!(sink.count(), 0);
        assert_eq!(b.num_rows(), 3);
        let bytes: Vec<i64> = b.column(2).as_primitive::<Int64Type>().values().to_vec();
        assert_eq!(bytes, vec![5, 6, 7]);
        assert_eq!(b.column(0).as_string_view().value(2), "10.0.0.7");
    }

    /// A header naming a field the catalogue does not know is a typo until the run says
    /// otherwise (objects discovery did not peek at, such as S3's, meet it here).
    #[test]
    fn unknown_header_fields_are_errors_unless_allowed() {
        let input = "dstport srcaddr bytez\n443 10.0.0.9 5\n";
        let schema = FlowSchema::default();
        let strict = |allow: bool| {
            let mut opts = DecodeOptions::new(
                schema.clone(),
                None,
                100,
                None,
                None,
                Arc::new(RejectSink::new(false, None)),
            );
            opts.allow_unknown_fields = allow;
            TextDecoder::new(Arc::new(opts), "s3://b/k.log")
        };
        let e = strict(false).decode(input.as_bytes(), true).unwrap_err();
        assert!(
            e.to_string()
                .contains("s3://b/k.log, line 1, header: `bytez` is not a flow-log field (did you mean `bytes`?)"),
            "{e}"
        );
        let mut d = strict(true);
        d.decode(input.as_bytes(), true).unwrap();
        assert_eq!(d.flush().unwrap().unwrap().num_rows(), 1);
    }

    #[test]
    fn log_format_overrides_header() {
        let (mut d, sink) = decoder(Some("${srcaddr} ${dstport}"), None, None, false);
        d.decode(b"dstport srcaddr\n10.0.0.1 443\n", true).unwrap();
        let b = d.flush().unwrap().unwrap();
        assert_eq!(sink.count(), 0);
        assert_eq!(
            b.column_by_name("srcaddr")
                .unwrap()
                .as_string_view()
                .value(0),
            "10.0.0.1"
        );
    }

    #[test]
    fn json_message_wrappers_and_crlf() {
        let (mut d, sink) = decoder(None, Some(vec!["interface_id"]), None, false);
        let wrapped = format!(
            "{{\"message\": \"{GOOD}\"}}\r\n{{\"timestamp\":1,\"message\":\"{GOOD}\"}}{{\"message\":\"{GOOD}\"}}\n{{\"nomessage\":1}}\n{GOOD}\r\n"
        );
        d.decode(wrapped.as_bytes(), true).unwrap();
        assert_eq!(d.flush().unwrap().unwrap().num_rows(), 4);
        assert_eq!(sink.count(), 1);
    }

    #[test]
    fn projection_does_not_change_which_rows_are_accepted() {
        let input = format!("{GOOD}\n2 1 eni-1 10.0.0.1 10.0.0.2 443 x 6 10 840 1 2 ACCEPT OK\n");
        let (mut all, _) = decoder(None, None, None, false);
        all.decode(input.as_bytes(), true).unwrap();
        let (mut none, sink) = decoder(None, Some(vec![]), None, false);
        none.decode(input.as_bytes(), true).unwrap();
        let b = none.flush().unwrap().unwrap();
        assert_eq!(b.num_columns(), 0);
        assert_eq!(b.num_rows(), all.flush().unwrap().unwrap().num_rows());
        assert_eq!(sink.count(), 1);
    }

    #[test]
    fn filters_read_unprojected_fields_count_rows_and_see_the_streams_eni() {
        use crate::decode::filter::{CmpOp, Predicate, Test};
        let schema = FlowSchema::default();
        let pred = Predicate::on;
        let filters = vec![
            pred("action", Test::In(vec!["ACCEPT".into()])),
            pred("dstport", Test::Int(CmpOp::Lt, 50000)),
            pred("interface_id", Test::In(vec!["eni-stream".into()])),
        ];
        // A CloudWatch stream's layout without `interface-id`: the stream's ENI stands in.
        let layout = "${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${action}";
        for (eni, rows) in [(Some("eni-stream"), 1), (Some("eni-other"), 0), (None, 0)] {
            let mut opts = DecodeOptions::new(
                schema.clone(),
                Some(vec![schema.index_of("srcaddr").unwrap()]),
                100,
                None,
                Some(Layout::parse(layout).unwrap()),
                Arc::new(RejectSink::new(false, None)),
            );
            opts.filters = filters.clone();
            let mut d = TextDecoder::new(Arc::new(opts), "test.log").with_default_interface(eni);
            let input = "2 10.0.0.1 10.0.0.2 443 49152 ACCEPT\n\
                         2 10.0.0.3 10.0.0.2 443 49153 REJECT\n\
                         2 10.0.0.4 10.0.0.2 443 60000 ACCEPT\n\
                         2 10.0.0.5 10.0.0.2 443 - ACCEPT\n\
                         2 10.0.0.6 10.0.0.2 443 x ACCEPT\n";
            d.decode(input.as_bytes(), true).unwrap();
            let b = d.flush().unwrap();
            let got: Vec<String> = b
                .iter()
                .flat_map(|b| {
                    b.column(0)
                        .as_string_view()
                        .iter()
                        .map(|v| v.unwrap().to_string())
                        .collect::<Vec<_>>()
                })
                .collect();
            let expected: Vec<String> = ["10.0.0.1"]
                .iter()
                .take(rows)
                .map(|s| s.to_string())
                .collect();
            assert_eq!(got, expected, "{eni:?}");
            // Filtered records are valid rows; the `x` port is still a reject.
            assert_eq!(
                (d.records, d.filtered + got.len() as u64, d.rejected),
                (5, 4, 1)
            );
        }
    }

    #[test]
    fn window_drops_and_counts_rows_outside() {
        let w = TimeWindow {
            since: Some(1439387264),
            until: None,
        };
        // Also when no output column reads the times: the window still does.
        for projection in [None, Some(vec![]), Some(vec!["action"])] {
            let (mut d, _) = decoder(None, projection, Some(w), false);
            d.decode_line(GOOD.as_bytes()).unwrap();
            d.decode_line(b"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 100 200 ACCEPT OK")
                .unwrap();
            assert_eq!(d.flush().unwrap().unwrap().num_rows(), 1);
            assert_eq!((d.records, d.outside_window), (2, 1));
        }
    }

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

    #[test]
    fn fast_and_checked_paths_accept_the_same_records() {
        let records = [
            GOOD,
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 +443 49152 6 10 840 1439387263 1439387264 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 2147483648 49152 6 10 840 1 2 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 2147483647 49152 6 10 840 1 2 ACCEPT OK",
            "2 123456789010 eni-1 2001:db8::1 ::1 443 49152 6 10 840 1 2 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.01 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK",
            "2 123456789010 eni-1 - - - - - - - 1 2 - NODATA",
            "2  123456789010\teni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK  ",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK extra",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 4-3 49152 6 10 840 1 2 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 -1 49152 6 10 840 1 2 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 1234567890123456789 1 2 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 4294967296 6 10 840 1 2 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 2147483648 6 10 840 1 2 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 2147483647 6 10 840 1 2 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 999999999 6 10 840 1 2 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.256 443 80 6 10 840 1 2 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.1 - 443 80 6 10 840 1 2 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 80 6 10 840 - 2 ACCEPT OK",
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 80 6 10 840 1x 2 ACCEPT OK",
        ];
        for r in records {
            let (mut fast, _) = decoder(None, None, None, false);
            let (mut checked, _) = decoder(None, None, None, false);
            let fast_ok = fast.fast_fields(r.as_bytes());
            let checked_ok = checked.checked_fields(r).unwrap();
            // Unprojected fields are checked without computing their values: same verdict.
            let (mut unprojected, _) = decoder(None, Some(vec![]), None, false);
            assert_eq!(unprojected.fast_fields(r.as_bytes()), fast_ok, "{r}");
            if fast_ok {
                assert!(
                    checked_ok,
                    "fast path accepted what the checked path rejects: {r}"
                );
                assert_eq!(
                    format!("{:?}", fast.vals),
                    format!("{:?}", checked.vals),
                    "{r}"
                );
            }
        }
    }

    #[test]
    fn packet_addresses_equal_to_checked_ones_are_not_trusted_blindly() {
        // `pkt-srcaddr`/`pkt-dstaddr` equal to `srcaddr`/`dstaddr` skip their own check;
        // anything else, however close, is checked in full.
        let format = "${srcaddr} ${pkt-srcaddr} ${dstaddr} ${pkt-dstaddr} ${bytes}";
        let cases: [(&str, bool); 16] = [
            ("10.0.0.1 10.0.0.1 10.0.0.2 10.0.0.2 5", true),
            ("10.0.0.1 10.0.0.12 10.0.0.2 10.0.0.2 5", true),
            ("10.0.0.12 10.0.0.1 10.0.0.2 10.0.0.2 5", true),
            ("10.0.0.1 10.0.0.1x 10.0.0.2 10.0.0.2 5", false),
            ("10.0.0.1 10.0.0.1.1 10.0.0.2 10.0.0.2 5", false),
            ("10.0.0.1 10.0.0.256 10.0.0.2 10.0.0.2 5", false),
            ("10.0.0.1 - 10.0.0.2 - 5", true),
            ("- - - - 5", true),
            ("- 10.0.0.1 - 10.0.0.300 5", false),
            ("2001:db8::1 2001:db8::1 ::1 ::1 5", true),
            ("2001:db8::1 2001:db8::1g ::1 ::1 5", false),
            ("10.0.0.1 10.0.0.1 10.0.0.2 10.0.0.2", false),
            ("10.0.0.1 10.0.0.1 10.0.0.2 10.0.0.2 5 6", false),
            ("10.0.0.1 10.0.0.1 10.0.0.2 10.0.0.2\t5", true),
            ("255.255.255.255 255.255.255.255 1.1.1.1 1.1.1.1 5", true),
            ("1.1.1.1 1.1.1.1 1.1.1.1 1.1.1.1 5", true),
        ];
        for (r, ok) in cases {
            for projection in [None, Some(vec![]), Some(vec!["dstaddr", "bytes"])] {
                let (mut fast, _) = decoder(Some(format), projection.clone(), None, false);
                let (mut checked, _) = decoder(Some(format), projection, None, false);
                assert_eq!(fast.fast_fields(r.as_bytes()), ok, "{r}");
                assert_eq!(checked.checked_fields(r).unwrap(), ok, "{r}");
            }
            // The address, at the end of a record: the equality check cannot read past it.
            let end = r.rsplit_once(' ').map_or(r, |(head, _)| head);
            let (mut fast, _) = decoder(Some(&format.replace(" ${bytes}", "")), None, None, false);
            let (mut checked, _) =
                decoder(Some(&format.replace(" ${bytes}", "")), None, None, false);
            assert_eq!(
                fast.fast_fields(end.as_bytes()),
                checked.checked_fields(end).unwrap(),
                "{end}"
            );
        }
        // The values stored are the record's own tokens.
        let (mut dec, _) = decoder(Some(format), None, None, false);
        dec.decode_line(b"10.0.0.1 10.0.0.1 10.0.0.2 10.0.0.2 5")
            .unwrap();
        let batch = dec.flush().unwrap().unwrap();
        for column in ["srcaddr", "pkt_srcaddr", "dstaddr", "pkt_dstaddr"] {
            let c = batch.column_by_name(column).unwrap().as_string_view();
            let want = if column.ends_with("srcaddr") {
                "10.0.0.1"
            } else {
                "10.0.0.2"
            };
            assert_eq!(c.value(0), want, "{column}");
        }
    }

    #[test]
    fn lines_across_utf8_windows_keep_their_numbers_and_rejects() {
        // Over 64 KiB of lines, with a bad byte in one and a line longer than the window.
        let mut input = Vec::new();
        for n in 1..=2000 {
            match n {
                1000 => input.extend_from_slice(
                    b"2 123456789010 eni-1 10.0.0.1 \xff 1 2 6 1 1 1 2 ACCEPT OK",
                ),
                1500 => {
                    input.extend_from_slice(format!("{GOOD} {}", "x".repeat(70_000)).as_bytes())
                }
                _ => input.extend_from_slice(GOOD.as_bytes()),
            }
            input.extend_from_slice(if n % 3 == 0 { b"\r\n" } else { b"\n" });
        }
        for eof_split in [input.len(), 100_000] {
            let (mut dec, sink) = decoder(None, None, None, false);
            let (mut rows, mut start) = (0, 0);
            // As a reader calls it: a first part without its end, then the whole input.
            for (part, eof) in [(&input[..eof_split], false), (&input[..], true)] {
                loop {
                    start += dec.decode(&part[start..], eof).unwrap();
                    let full = dec.is_full();
                    rows += dec.flush().unwrap().map_or(0, |b| b.num_rows());
                    if !full {
                        break;
                    }
                }
            }
            assert_eq!(start, input.len());
            assert_eq!(rows, 1998);
            assert_eq!((dec.records, dec.rejected, dec.line()), (2000, 2, 2000));
            let lines: Vec<u64> = sink.first().iter().map(|r| r.line).collect();
            assert_eq!(lines, [1000, 1500]);
        }
    }

    #[test]
    fn batches_are_bounded_by_batch_size() {
        let (mut d, _) = decoder(None, Some(vec!["bytes"]), None, false);
        let input: String = (0..250).map(|_| format!("{GOOD}\n")).collect();
        let mut pos = 0;
        let mut sizes = Vec::new();
        while pos < input.len() {
            pos += d.decode(&input.as_bytes()[pos..], true).unwrap();
            if let Some(b) = d.flush().unwrap() {
                sizes.push(b.num_rows());
            }
        }
        assert_eq!(sizes, vec![100, 100, 50]);
    }
}
