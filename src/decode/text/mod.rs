//! Text flow-log records (plain lines, header lines, `{"message": …}` wrappers) → Arrow.
//!
//! The decoder is push-based and does no IO: callers hand it byte chunks
//! ([`TextDecoder::decode`]) or single lines ([`TextDecoder::decode_line`]) and take
//! batches with [`TextDecoder::flush`]. Every field of every record is checked, whether
//! or not its column is projected, so the set of accepted rows never depends on the query.

mod columns;
mod plan;

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, new_null_array};

use self::columns::{Builder, Val};
use self::plan::{FilterAt, Origin, Plan, make_plan};
use super::lex::{
    digits_end, dotted_quad_end, parse_int, scan_digits, token_end, valid_ip, valid_ip_bytes,
};
use super::{DecodeOptions, Reject, normalise_epoch};
use crate::error::Result;
use crate::format::{Kind, Layout};

/// Longest line accepted; longer ones are rejected without being buffered whole.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Decodes the text records of one object.
pub struct TextDecoder {
    opts: Arc<DecodeOptions>,
    object: String,
    layout: Layout,
    origin: Origin,
    plan: Plan,
    builders: Vec<Builder>,
    /// Per column, an all-null array of a batch's length, shared by every batch in which
    /// the record format lacks the column: most of the catalogue's columns are absent from
    /// any one format, and a null string view costs 16 bytes a row.
    nulls: Vec<Option<ArrayRef>>,
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
    /// Whether a record was decoded in the current layout, and the formats records were
    /// decoded in, not yet taken ([`TextDecoder::take_formats`]).
    layout_noted: bool,
    formats_read: Vec<String>,
    /// The other formats of the flow logs that write to the object (a CloudWatch group's
    /// streams are shared by them), each with its plan and whether it was noted: a record
    /// whose number of fields is one of theirs is read in it.
    others: Vec<Alternative>,
}

/// A format the decoder switches to, record by record ([`TextDecoder::with_flow_log`]).
struct Alternative {
    layout: Layout,
    plan: Plan,
    noted: bool,
}

impl TextDecoder {
    pub fn new(opts: Arc<DecodeOptions>, object: impl Into<String>) -> Self {
        let (layout, origin) = match &opts.log_format {
            Some(l) => (l.clone(), Origin::LogFormat),
            None => (Layout::default_v2(), Origin::Default),
        };
        let plan = make_plan(&opts, &layout);
        // A column the format lacks gets no capacity: it is filled only if a header brings
        // it (its builder then grows), and a builder's capacity is held until then.
        let builders = opts
            .projection
            .iter()
            .enumerate()
            .map(|(b, &c)| {
                let capacity = if plan.missing.contains(&b) {
                    0
                } else {
                    opts.batch_size
                };
                Builder::for_source(&opts.schema.sources()[c], capacity)
            })
            .collect();
        let nulls = vec![None; opts.projection.len()];
        TextDecoder {
            opts,
            object: object.into(),
            layout,
            origin,
            plan,
            builders,
            nulls,
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
            layout_noted: false,
            formats_read: Vec::new(),
            others: Vec::new(),
        }
    }

    /// Starts from the format of flow log `id` (from the object's key) when the inventory
    /// has it and `--log-format` was not given; a header line still takes precedence. When
    /// several flow logs write to the object (a CloudWatch group's), each record is read in
    /// the first of their formats with its number of fields.
    pub fn with_flow_log(mut self, id: Option<&str>) -> Self {
        if self.origin == Origin::Default
            && let Some([layout, others @ ..]) = id
                .and_then(|id| self.opts.flow_log_formats.get(id))
                .map(Vec::as_slice)
        {
            self.plan = make_plan(&self.opts, layout);
            self.layout = layout.clone();
            self.origin = Origin::FlowLog;
            self.others = others
                .iter()
                .map(|l| Alternative {
                    layout: l.clone(),
                    plan: make_plan(&self.opts, l),
                    noted: false,
                })
                .collect();
        }
        self
    }

    /// Switches to the other flow log's format that has `fields` fields, if there is one
    /// (and no header line or `--log-format` decides the format).
    fn switch_to_format_of(&mut self, fields: usize) -> bool {
        if self.origin != Origin::FlowLog {
            return false;
        }
        let Some(i) = self
            .others
            .iter()
            .position(|o| o.layout.slots.len() == fields)
        else {
            return false;
        };
        // The columns the new format has and the old one lacks must line up.
        self.align();
        let other = &mut self.others[i];
        std::mem::swap(&mut self.layout, &mut other.layout);
        std::mem::swap(&mut self.plan, &mut other.plan);
        std::mem::swap(&mut self.layout_noted, &mut other.noted);
        true
    }

    /// The numbers of fields a record may have, and where the formats come from.
    fn expected_fields(&self) -> String {
        let mut counts = vec![self.plan.slots.len()];
        if self.origin == Origin::FlowLog {
            counts.extend(self.others.iter().map(|o| o.layout.slots.len()));
        }
        counts.sort_unstable();
        counts.dedup();
        let mut counts: Vec<String> = counts.iter().map(ToString::to_string).collect();
        let last = counts.pop().unwrap_or_default();
        if counts.is_empty() {
            format!("{last} fields ({})", self.origin.describe())
        } else {
            let default = Layout::default_v2();
            let or_default =
                if self.layout == default || self.others.iter().any(|o| o.layout == default) {
                    ", or the default format"
                } else {
                    ""
                };
            format!(
                "{} or {last} fields (LogFormats of the flow logs that write to it, in describe-flow-logs{or_default})",
                counts.join(", ")
            )
        }
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

    /// The formats records were decoded in since the last call (each once per switch to it).
    pub fn take_formats(&mut self) -> Vec<String> {
        std::mem::take(&mut self.formats_read)
    }

    /// The current layout as read: a stream's ENI stands in for a missing `interface-id`.
    fn format_read(&self) -> String {
        match self.default_interface {
            Some(_) => self.layout.with_stream_eni().to_aws_format(),
            None => self.layout.to_aws_format(),
        }
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
        if !self.layout_noted {
            self.layout_noted = true;
            let format = self.format_read();
            self.formats_read.push(format);
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
        if let Some(skip) = &self.opts.skip_enis {
            let eni = match self.plan.interface_pos {
                Some(p) => match self.vals[p] {
                    Val::Str(s, e) => Some(&text.as_bytes()[s as usize..e as usize]),
                    _ => None,
                },
                None => self.default_interface.as_deref().map(str::as_bytes),
            };
            if eni.is_some_and(|e| skip.contains(e)) {
                self.filtered += 1;
                return Ok(());
            }
        }
        for &(pos, b) in &self.plan.appends {
            self.builders[b].append(&self.vals[pos], text);
        }
        // The other columns the format lacks get their nulls when the batch is taken (or
        // the format changes): see `align`.
        // `interface_id` from the stream, unless the format has the field (then this row
        // already has its value).
        if let (Some(eni), Some(b)) = (&self.default_interface, self.plan.interface_out)
            && self.builders[b].len() <= self.rows
        {
            self.builders[b].pad_to(self.rows);
            if let Builder::Str(s) = &mut self.builders[b] {
                s.append_value(eni);
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
        if self.tokens.len() != self.plan.slots.len()
            && !self.switch_to_format_of(self.tokens.len())
        {
            let reason = format!(
                "expected {}, found {}",
                self.expected_fields(),
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

    /// Fills the columns the current format lacks with nulls up to the rows decoded so
    /// far, before the format changes: a column the next format has must line up.
    fn align(&mut self) {
        if self.rows == 0 {
            return;
        }
        for b in &mut self.builders {
            b.pad_to(self.rows);
        }
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
            self.align();
            self.plan = make_plan(&self.opts, &layout);
            self.layout = layout;
            self.layout_noted = false;
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
        let mut columns = Vec::with_capacity(self.builders.len());
        for (b, builder) in self.builders.iter_mut().enumerate() {
            if builder.len() == 0 {
                let null = self.nulls[b].get_or_insert_with(|| {
                    new_null_array(
                        self.opts.output_schema.field(b).data_type(),
                        self.opts.batch_size.max(rows),
                    )
                });
                if null.len() < rows {
                    *null = new_null_array(null.data_type(), rows);
                }
                columns.push(null.slice(0, rows));
            } else {
                builder.pad_to(rows);
                columns.push(builder.finish());
            }
        }
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

fn int_of(v: Val) -> Option<i64> {
    match v {
        Val::Int(i) => Some(i),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{RejectSink, TimeWindow};
    use crate::format::FlowSchema;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{Int32Type, Int64Type};

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

    /// A column the format lacks is null in its rows and only there, when the format
    /// changes inside a batch: the decoder fills such columns when the batch is taken.
    #[test]
    fn columns_a_header_adds_or_drops_line_up_with_their_rows() {
        let (mut d, sink) = decoder(None, Some(vec!["srcaddr", "dstport", "bytes"]), None, false);
        let input = "srcaddr bytes\n10.0.0.1 1\n10.0.0.2 2\ndstport bytes\n22 3\nsrcaddr dstport bytes\n10.0.0.4 80 4\nbytes\n5\n";
        d.decode(input.as_bytes(), true).unwrap();
        let b = d.flush().unwrap().unwrap();
        assert_eq!(sink.count(), 0);
        assert_eq!(b.num_rows(), 5);
        let src = b.column(0).as_string_view();
        let src: Vec<Option<&str>> = (0..5)
            .map(|i| src.is_valid(i).then(|| src.value(i)))
            .collect();
        assert_eq!(
            src,
            vec![
                Some("10.0.0.1"),
                Some("10.0.0.2"),
                None,
                Some("10.0.0.4"),
                None
            ]
        );
        let port = b.column(1).as_primitive::<Int32Type>();
        let port: Vec<Option<i32>> = (0..5)
            .map(|i| port.is_valid(i).then(|| port.value(i)))
            .collect();
        assert_eq!(port, vec![None, None, Some(22), Some(80), None]);
        let bytes: Vec<i64> = b.column(2).as_primitive::<Int64Type>().values().to_vec();
        assert_eq!(bytes, vec![1, 2, 3, 4, 5]);
        // A column no record of the batch has is all null, the length of the batch.
        d.decode(b"bytes\n6\n7\n", true).unwrap();
        let b = d.flush().unwrap().unwrap();
        assert_eq!(b.column(0).len(), 2);
        assert_eq!(b.column(0).null_count(), 2);
        assert_eq!(b.column(1).null_count(), 2);
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

    /// The first column of what a decoder flushed, as text.
    fn first_column(batch: Option<RecordBatch>) -> Vec<String> {
        batch
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_string_view()
                    .iter()
                    .map(|v| v.unwrap().to_string())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Options that decode `layout` into `srcaddr` alone.
    fn srcaddr_of(layout: &str) -> DecodeOptions {
        let schema = FlowSchema::default();
        DecodeOptions::new(
            schema.clone(),
            Some(vec![schema.index_of("srcaddr").unwrap()]),
            100,
            None,
            Some(Layout::parse(layout).unwrap()),
            Arc::new(RejectSink::new(false, None)),
        )
    }

    #[test]
    fn filters_read_unprojected_fields_count_rows_and_see_the_streams_eni() {
        use crate::decode::filter::{CmpOp, Predicate, Test};
        let pred = Predicate::on;
        let filters = vec![
            pred("action", Test::In(vec!["ACCEPT".into()])),
            pred("dstport", Test::Int(CmpOp::Lt, 50000)),
            pred("interface_id", Test::In(vec!["eni-stream".into()])),
        ];
        // A CloudWatch stream's layout without `interface-id`: the stream's ENI stands in.
        let layout = "${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${action}";
        for (eni, rows) in [(Some("eni-stream"), 1), (Some("eni-other"), 0), (None, 0)] {
            let mut opts = srcaddr_of(layout);
            opts.filters = filters.clone();
            let mut d = TextDecoder::new(Arc::new(opts), "test.log").with_default_interface(eni);
            let input = "2 10.0.0.1 10.0.0.2 443 49152 ACCEPT\n\
                         2 10.0.0.3 10.0.0.2 443 49153 REJECT\n\
                         2 10.0.0.4 10.0.0.2 443 60000 ACCEPT\n\
                         2 10.0.0.5 10.0.0.2 443 - ACCEPT\n\
                         2 10.0.0.6 10.0.0.2 443 x ACCEPT\n";
            d.decode(input.as_bytes(), true).unwrap();
            let got = first_column(d.flush().unwrap());
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
    fn skipped_enis_are_counted_rows_and_records_without_an_eni_pass() {
        let skip: crate::decode::EniSet = [b"eni-other".as_slice().into()].into_iter().collect();
        let skip = Arc::new(skip);
        let decode = |layout: &str, stream: Option<&str>, input: &str| {
            let mut opts = srcaddr_of(layout);
            opts.skip_enis = Some(skip.clone());
            let mut d = TextDecoder::new(Arc::new(opts), "test.log").with_default_interface(stream);
            d.decode(input.as_bytes(), true).unwrap();
            let got = first_column(d.flush().unwrap());
            (got, d.records, d.filtered, d.rejected)
        };
        // `interface_id` is not projected: it is read for the test all the same. A record
        // without an ENI (`-`) passes; a malformed record of a skipped ENI is still a
        // reject, naming its field.
        let (got, records, filtered, rejected) = decode(
            "${interface-id} ${srcaddr} ${dstport}",
            None,
            "eni-mine 10.0.0.1 443\n\
             eni-other 10.0.0.2 443\n\
             - 10.0.0.3 443\n\
             eni-other 10.0.0.4 x\n",
        );
        assert_eq!(got, ["10.0.0.1", "10.0.0.3"]);
        assert_eq!((records, filtered, rejected), (4, 1, 1));
        // A CloudWatch stream's layout without `interface-id`: the stream's ENI decides.
        let layout = "${srcaddr} ${dstport}";
        let input = "10.0.0.1 443\n10.0.0.2 443\n";
        assert_eq!(decode(layout, Some("eni-other"), input).0.len(), 0);
        assert_eq!(decode(layout, Some("eni-mine"), input).0.len(), 2);
        assert_eq!(decode(layout, None, input).0.len(), 2);
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

    /// Flow logs that write to one CloudWatch group share its streams: their records come
    /// interleaved, each read in the format with its number of fields.
    #[test]
    fn a_group_written_in_two_formats_reads_each_record_in_its_own() {
        const V5: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}";
        const V5_LINE: &str = "5 123456789010 eni-1 10.0.0.1 52.1.2.3 49152 443 6 10 999 1439387263 1439387264 ACCEPT OK vpc-1 subnet-1 - 2 IPv4 10.0.0.1 52.1.2.3 us-east-1 use1-az1 - S3 egress 8";
        let schema = FlowSchema::default();
        let projection = ["bytes", "dstaddr", "flow_direction", "vpc_id"]
            .iter()
            .map(|c| schema.index_of(c).expect("column"))
            .collect();
        let sink = Arc::new(RejectSink::new(false, None));
        let mut opts = DecodeOptions::new(schema, Some(projection), 100, None, None, sink.clone());
        opts.flow_log_formats = Arc::new(
            [(
                "log-group:g".to_string(),
                vec![Layout::default_v2(), Layout::parse(V5).unwrap()],
            )]
            .into(),
        );
        let mut d = TextDecoder::new(Arc::new(opts), "cwlogs://g/eni-1-all")
            .with_flow_log(Some("log-group:g"));
        for line in [GOOD, V5_LINE, V5_LINE, GOOD, "2 1 eni-1 10.0.0.1", V5_LINE] {
            d.decode_line(line.as_bytes()).unwrap();
        }
        let b = d.flush().unwrap().unwrap();
        let bytes: Vec<i64> = b.column(0).as_primitive::<Int64Type>().values().to_vec();
        assert_eq!(bytes, [840, 999, 999, 840, 999]);
        let text = |c: usize| -> Vec<Option<String>> {
            let a = datafusion::arrow::compute::cast(
                b.column(c),
                &datafusion::arrow::datatypes::DataType::Utf8,
            )
            .unwrap();
            a.as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        let egress = Some("egress".to_string());
        assert_eq!(
            text(2),
            [None, egress.clone(), egress.clone(), None, egress]
        );
        assert_eq!(text(1)[1].as_deref(), Some("52.1.2.3"));
        assert_eq!(text(3)[3], None);
        // A record of neither format is rejected, naming both.
        let rejects = sink.first();
        assert_eq!(rejects.len(), 1);
        assert_eq!((rejects[0].line, d.records, d.rejected), (5, 6, 1));
        assert!(
            rejects[0]
                .reason
                .starts_with("expected 14 or 27 fields (LogFormats of the flow logs"),
            "{}",
            rejects[0].reason
        );
        // Each format is noted once, however often the records switch.
        assert_eq!(d.take_formats().len(), 2);
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
