//! One document being read: typed field access that turns an unusable field into a
//! warning naming the file, and the JSON value helpers the parsers share.

use std::fmt::{Debug, Display};
use std::net::IpAddr;

use chrono::{DateTime, NaiveDateTime};
use ipnet::IpNet;
use serde_json::{Map, Value};

use crate::inventory::JobKind;

pub(super) type Obj = Map<String, Value>;

/// Where warnings are collected while one document is read; they are appended to the
/// inventory afterwards so that the parsers can borrow the inventory mutably.
pub(super) struct Doc<'a> {
    pub(super) file: &'a str,
    /// `[i]` inside a JSON array, else empty.
    pub(super) at: String,
    pub(super) warnings: Vec<String>,
    /// The time of the dated snapshot folder the file is in.
    pub(super) snapshot: Option<i64>,
}

impl Doc<'_> {
    /// A repeat of `what` that disagrees with the first read: worth a warning, unless
    /// the first came from a newer snapshot (files are read newest first), where a change
    /// is what snapshots record.
    pub(super) fn differs(&mut self, what: impl Display) {
        if self.snapshot.is_none() {
            self.warn(format_args!(
                "{what} was already loaded from another document with different details; keeping the first"
            ));
        }
    }

    pub(super) fn warn(&mut self, what: impl Display) {
        self.warnings
            .push(format!("{}{}: {what}", self.file, self.at));
    }

    /// The `account:region` of a SageMaker resource, from its ARN field `key`.
    pub(super) fn scope(&mut self, o: &Obj, key: &str, what: &str) -> Option<String> {
        self.opt_str(o, key, what)
            .and_then(|arn| crate::inventory::arn_scope(&arn))
    }

    /// An id-like string field; `what` names the item in a warning when it is missing.
    pub(super) fn required(&mut self, o: &Obj, key: &str, what: &str) -> Option<String> {
        match o.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                self.warn(format_args!("{what}: no {key}; skipped"));
                None
            }
            Some(other) => {
                self.warn(format_args!(
                    "{what}: {key} is {}, not a string; skipped",
                    kind(other)
                ));
                None
            }
        }
    }

    /// An optional string field; a value of the wrong type is reported and ignored.
    pub(super) fn opt_str(&mut self, o: &Obj, key: &str, owner: &str) -> Option<String> {
        match o.get(key)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => {
                self.warn(format_args!(
                    "{owner}: {key} is {}, not a string; ignored",
                    kind(other)
                ));
                None
            }
        }
    }

    pub(super) fn opt_bool(&mut self, o: &Obj, key: &str, owner: &str) -> Option<bool> {
        match o.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::Null => None,
            other => {
                self.warn(format_args!(
                    "{owner}: {key} is {}, not true/false; ignored",
                    kind(other)
                ));
                None
            }
        }
    }

    /// An optional whole non-negative number (seconds, counts); anything else is
    /// reported and ignored.
    pub(super) fn opt_u64(&mut self, o: &Obj, key: &str, owner: &str) -> Option<u64> {
        match o.get(key)? {
            Value::Number(n) if n.as_u64().is_some() => n.as_u64(),
            Value::Null => None,
            other => {
                self.warn(format_args!(
                    "{owner}: {key} is {}, not a whole number; ignored",
                    kind(other)
                ));
                None
            }
        }
    }

    /// The objects of an array field (absent means empty).
    pub(super) fn objects<'o>(&mut self, o: &'o Obj, key: &str, owner: &str) -> Vec<&'o Obj> {
        self.items(o, key, owner, "an object", Value::as_object)
    }

    /// `item` (named `what`) as an object; anything else is a warning.
    pub(super) fn object_item<'v>(&mut self, item: &'v Value, what: &str) -> Option<&'v Obj> {
        let o = item.as_object();
        if o.is_none() {
            self.warn(format_args!(
                "{what} is {}, not an object; skipped",
                kind(item)
            ));
        }
        o
    }

    /// The strings of an array field (absent means empty), each once.
    pub(super) fn strings(&mut self, o: &Obj, key: &str, owner: &str) -> Vec<String> {
        let mut out = Vec::new();
        for s in self.items(o, key, owner, "a string", Value::as_str) {
            push_unique(&mut out, s.to_string());
        }
        out
    }

    /// The items of an array field that `pick` takes; each other item, and a field that is
    /// not a list, is a warning (`what` says what an item should be).
    fn items<'o, T>(
        &mut self,
        o: &'o Obj,
        key: &str,
        owner: &str,
        what: &str,
        pick: impl Fn(&'o Value) -> Option<T>,
    ) -> Vec<T> {
        let items = match o.get(key) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.warn(format_args!(
                    "{owner}: {key} is {}, not a list; skipped",
                    kind(other)
                ));
                return Vec::new();
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match pick(item) {
                Some(x) => out.push(x),
                None => self.warn(format_args!(
                    "{owner}: {key}[{i}] is {}, not {what}; skipped",
                    kind(item)
                )),
            }
        }
        out
    }

    /// A SageMaker `VpcConfig` object's security groups and subnets (empty without one).
    pub(super) fn vpc_config(
        &mut self,
        vpc: Option<&Obj>,
        owner: &str,
    ) -> (Vec<String>, Vec<String>) {
        match vpc {
            Some(v) => (
                self.strings(v, "SecurityGroupIds", owner),
                self.strings(v, "Subnets", owner),
            ),
            None => (Vec::new(), Vec::new()),
        }
    }

    /// A nested object field (absent means None).
    pub(super) fn object<'o>(&mut self, o: &'o Obj, key: &str, owner: &str) -> Option<&'o Obj> {
        match o.get(key)? {
            Value::Object(x) => Some(x),
            Value::Null => None,
            other => {
                self.warn(format_args!(
                    "{owner}: {key} is {}, not an object; ignored",
                    kind(other)
                ));
                None
            }
        }
    }

    pub(super) fn ip(&mut self, o: &Obj, key: &str, owner: &str, field: &str) -> Option<IpAddr> {
        let s = self.opt_str(o, key, owner)?;
        match s.parse() {
            Ok(ip) => Some(ip),
            Err(_) => {
                self.warn(format_args!(
                    "{owner}: {field} {s:?} is not an IP address; skipped"
                ));
                None
            }
        }
    }

    pub(super) fn net(&mut self, o: &Obj, key: &str, owner: &str, field: &str) -> Option<IpNet> {
        let s = self.opt_str(o, key, owner)?;
        match s.parse::<IpNet>() {
            Ok(n) => Some(n.trunc()),
            Err(_) => {
                self.warn(format_args!(
                    "{owner}: {field} {s:?} is not a CIDR; skipped"
                ));
                None
            }
        }
    }

    pub(super) fn time(&mut self, o: &Obj, key: &str, owner: &str, round: Round) -> Option<i64> {
        let v = o.get(key)?;
        if v.is_null() {
            return None;
        }
        let t = parse_time(v, round);
        if t.is_none() {
            self.warn(format_args!(
                "{owner}: {key} {v} is not a time (ISO 8601 or epoch seconds); ignored"
            ));
        }
        t
    }

    /// Adds `item` unless an item with the same key is already known. A repeat is normal
    /// (overlapping describe calls); a repeat that disagrees is worth a warning.
    /// Adds `item` unless one of the same key is there (a warning when they differ).
    pub(super) fn add_unique<T: Debug>(
        &mut self,
        list: &mut Vec<T>,
        item: T,
        key: impl Fn(&T) -> String,
        kind: &str,
    ) {
        if let Some(existing) = list.iter().find(|x| key(x) == key(&item)) {
            if format!("{existing:?}") != format!("{item:?}") {
                self.differs(format_args!("{kind} {}", key(&item)));
            }
            return;
        }
        list.push(item);
    }
}

/// The EC2 list keys, in the order they are read when one object carries several.

#[derive(Clone, Copy)]
pub(super) enum Round {
    Down,
    Up,
}

/// ISO 8601 (the CLI's default, e.g. `2026-11-20T10:00:00.318000+00:00`) or epoch
/// seconds (`cli_timestamp_format = none`), to whole Unix seconds.
fn parse_time(v: &Value, round: Round) -> Option<i64> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            let dt = DateTime::parse_from_rfc3339(s)
                .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z"))
                .map(|d| d.to_utc())
                .or_else(|_| {
                    // No offset: the API's times are UTC.
                    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").map(|n| n.and_utc())
                })
                .ok()?;
            let secs = dt.timestamp();
            match round {
                Round::Up if dt.timestamp_subsec_nanos() > 0 => secs.checked_add(1),
                _ => Some(secs),
            }
        }
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Some(i);
            }
            let f = n.as_f64()?;
            // Beyond ±2^53 seconds a float cannot name a second anyway.
            if !f.is_finite() || f.abs() > 9.0e15 {
                return None;
            }
            Some(match round {
                Round::Down => f.floor() as i64,
                Round::Up => f.ceil() as i64,
            })
        }
        _ => None,
    }
}

pub(super) fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub(super) fn kind_rank(k: JobKind) -> u8 {
    match k {
        JobKind::Training => 0,
        JobKind::Processing => 1,
        JobKind::Transform => 2,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ts(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    #[test]
    fn times() {
        let t = |v: Value, r| parse_time(&v, r);
        for (text, round, want) in [
            (
                "2026-11-20T10:00:00.318000+00:00",
                Round::Down,
                "2026-11-20T10:00:00Z",
            ),
            (
                "2026-11-20T10:40:00.775000+00:00",
                Round::Up,
                "2026-11-20T10:40:01Z",
            ),
            (
                "2026-11-20T10:40:00+00:00",
                Round::Up,
                "2026-11-20T10:40:00Z",
            ),
            ("2026-11-20T10:40:00.5", Round::Down, "2026-11-20T10:40:00Z"),
        ] {
            assert_eq!(t(json!(text), round), Some(ts(want)), "{text}");
        }
        assert_eq!(t(json!(-1.5), Round::Down), Some(-2));
        assert_eq!(t(json!(-1.5), Round::Up), Some(-1));
        assert_eq!(t(json!(true), Round::Up), None);
        assert_eq!(t(json!("2026-13-01T00:00:00Z"), Round::Up), None);
    }
}
