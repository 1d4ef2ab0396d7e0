//! Which token of the current layout feeds which builder, filter and time check, made
//! once per layout so the per-record loop only follows it.

use super::super::DecodeOptions;
use super::super::filter::Test;
use crate::format::{ColumnSource, FIELDS, Kind, Layout, Slot};

/// Where the current layout came from, for reject messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// `--log-format`: header lines are then only skipped.
    LogFormat,
    Header,
    /// The flow log's `LogFormat` in `describe-flow-logs`, for the flow-log id in the key.
    FlowLog,
    Default,
}

impl Origin {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Origin::LogFormat => "--log-format",
            Origin::Header => "header line",
            Origin::FlowLog => "LogFormat of the flow log in describe-flow-logs",
            Origin::Default => "default v2 format",
        }
    }
}

/// Where one token position of the current layout goes.
pub(super) struct SlotPlan {
    pub(super) kind: Kind,
    /// Builder receiving the value, when the column is projected.
    pub(super) out: Option<usize>,
    /// Builder of `start_time`/`end_time` fed by this `start`/`end` slot.
    pub(super) time_out: Option<usize>,
    /// Whether the value is used (output, or the time window): only then is it computed
    /// and stored; the others are only checked (but addresses are stored for `same_as`).
    pub(super) needed: bool,
    /// AWS field name, for reject messages.
    pub(super) name: String,
    /// For `pkt-srcaddr`/`pkt-dstaddr`: the position of `srcaddr`/`dstaddr` when it comes
    /// earlier. They hold the same address unless traffic went through an intermediate
    /// layer, and a token equal to one already checked needs no check of its own.
    pub(super) same_as: Option<usize>,
}

/// Where a pushed-down filter finds its value.
#[derive(Debug, Clone, Copy)]
pub(super) enum FilterAt {
    Slot(usize),
    /// `interface_id` in a layout without it: the object's ENI, when it is known.
    DefaultInterface,
    /// A field the layout does not have: NULL, which fails every filter.
    Null,
}

pub(super) struct Plan {
    pub(super) slots: Vec<SlotPlan>,
    pub(super) filters: Vec<(FilterAt, Test)>,
    /// (token position, builder) for every projected value, so a record's append loop
    /// visits only those, not every field of the layout.
    pub(super) appends: Vec<(usize, usize)>,
    /// Projected builders no slot of the layout feeds: always NULL.
    pub(super) missing: Vec<usize>,
    /// The builder of a projected `interface_id` the layout does not feed.
    pub(super) interface_out: Option<usize>,
    /// The builders of projected `source_object` (made whole at flush: one name for every
    /// row) and `source_line`.
    pub(super) object_out: Option<usize>,
    pub(super) line_out: Option<usize>,
    pub(super) start_pos: Option<usize>,
    pub(super) end_pos: Option<usize>,
    /// The slot of `interface_id`, stored when [`DecodeOptions::skip_enis`] reads it.
    pub(super) interface_pos: Option<usize>,
}

pub(super) fn make_plan(opts: &DecodeOptions, layout: &Layout) -> Plan {
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
    let interface_pos = layout
        .slots
        .iter()
        .position(|s| matches!(s, Slot::Known(k) if FIELDS[*k].column == "interface_id"));
    if opts.skip_enis.is_some()
        && let Some(p) = interface_pos
    {
        slots[p].needed = true;
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
        interface_pos,
    }
}
