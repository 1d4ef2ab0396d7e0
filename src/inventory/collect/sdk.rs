//! What the EC2 and SageMaker collectors share: following paginators, skipping calls the
//! endpoint lacks, and building JSON objects the way the AWS CLI prints them.

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::primitives::DateTime;
use serde_json::{Map, Value};

use crate::aws::{error_text, not_implemented};
use crate::error::{Error, Result};

/// Describe and get calls in flight at once, per kind (the SDK retries throttling).
pub(super) const DESCRIBE_CONCURRENCY: usize = 8;

/// `Ok(None)` when the endpoint does not implement the call (logged), the SDK error as an
/// [`Error::Source`] naming `op` otherwise.
pub(super) fn outcome<T, E>(
    op: &str,
    r: std::result::Result<T, SdkError<E, HttpResponse>>,
) -> Result<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            if not_implemented(&e) {
                tracing::warn!(
                    "{op} is not implemented by this endpoint ({}); its inventory document is skipped",
                    error_text(&e)
                );
                Ok(None)
            } else {
                Err(Error::source(op, error_text(&e)))
            }
        }
    }
}

/// Whether an error says the call does not exist here, as opposed to failing.
/// Follows a paginator to its end, mapping each page's items; `None` when the call is not
/// implemented.
macro_rules! all_pages {
    ($op:expr, $request:expr, $items:ident, $map:expr) => {{
        let mut pages = $request.into_paginator().send();
        let mut out = Vec::new();
        let mut implemented = true;
        while let Some(page) = pages.next().await {
            match outcome($op, page)? {
                Some(page) => out.extend(page.$items().iter().map($map)),
                None => {
                    implemented = false;
                    break;
                }
            }
        }
        if implemented { Some(out) } else { None }
    }};
}
pub(super) use all_pages;

pub(super) fn one_key(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_string(), value);
    Value::Object(m)
}

/// A JSON object built the way the CLI prints one: absent fields and empty lists are
/// left out.
pub(super) struct Obj(Map<String, Value>);

impl Obj {
    pub(super) fn new() -> Self {
        Obj(Map::new())
    }

    pub(super) fn done(self) -> Value {
        Value::Object(self.0)
    }

    /// Any value; an empty array is left out.
    pub(super) fn v(mut self, key: &str, value: Value) -> Self {
        if !matches!(&value, Value::Array(a) if a.is_empty()) {
            self.0.insert(key.to_string(), value);
        }
        self
    }

    pub(super) fn o(self, key: &str, value: Option<Value>) -> Self {
        match value {
            Some(v) => self.v(key, v),
            None => self,
        }
    }

    pub(super) fn s(self, key: &str, value: Option<&str>) -> Self {
        self.o(key, value.map(Value::from))
    }

    /// An SDK enum, as the API spelled it (unknown values included).
    pub(super) fn e<T: AsRef<str>>(self, key: &str, value: Option<&T>) -> Self {
        self.s(key, value.map(AsRef::as_ref))
    }

    pub(super) fn b(self, key: &str, value: Option<bool>) -> Self {
        self.o(key, value.map(Value::from))
    }

    pub(super) fn n<N: Into<Value>>(self, key: &str, value: Option<N>) -> Self {
        self.o(key, value.map(Into::into))
    }

    pub(super) fn t(self, key: &str, value: Option<&DateTime>) -> Self {
        self.o(key, value.map(cli_time))
    }

    pub(super) fn strs(self, key: &str, values: &[String]) -> Self {
        self.v(key, Value::from(values.to_vec()))
    }

    pub(super) fn list<T>(self, key: &str, items: &[T], f: impl Fn(&T) -> Value) -> Self {
        self.v(key, Value::Array(items.iter().map(f).collect()))
    }
}

/// A time as the AWS CLI prints it: `2026-11-20T10:00:00.318000+00:00`, rounded to the
/// microsecond as Python rounds it (an API's `1764288522.215` arrives as …214999… ns),
/// without the fraction when it is zero; epoch seconds if it is out of chrono's range.
fn cli_time(t: &DateTime) -> Value {
    let mut secs = t.secs();
    let mut micros = (t.subsec_nanos() + 500) / 1000;
    if micros >= 1_000_000 {
        secs += 1;
        micros -= 1_000_000;
    }
    match chrono::DateTime::<chrono::Utc>::from_timestamp(secs, micros * 1000) {
        Some(dt) if micros == 0 => Value::from(dt.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()),
        Some(dt) => Value::from(dt.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()),
        None => Value::from(t.as_secs_f64()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_like_the_cli() {
        let t = DateTime::from_secs_and_nanos(1_795_687_200, 318_000_000);
        assert_eq!(
            cli_time(&t),
            Value::from("2026-11-26T10:00:00.318000+00:00")
        );
        let t = DateTime::from_secs(1_795_687_200);
        assert_eq!(cli_time(&t), Value::from("2026-11-26T10:00:00+00:00"));
        let t = DateTime::from_secs_and_nanos(1_795_687_200, 214_999_523);
        assert_eq!(
            cli_time(&t),
            Value::from("2026-11-26T10:00:00.215000+00:00")
        );
        let t = DateTime::from_secs_and_nanos(1_795_687_200, 999_999_600);
        assert_eq!(cli_time(&t), Value::from("2026-11-26T10:00:01+00:00"));
        let t = DateTime::from_secs(-1);
        assert_eq!(cli_time(&t), Value::from("1969-12-31T23:59:59+00:00"));
    }

    #[test]
    fn objects_leave_out_what_is_absent() {
        let v = Obj::new()
            .s("A", Some("x"))
            .s("B", None)
            .strs("C", &[])
            .b("D", Some(false))
            .n("E", Some(3))
            .done();
        assert_eq!(v, serde_json::json!({"A": "x", "D": false, "E": 3}));
    }
}
