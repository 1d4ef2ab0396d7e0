//! AWS ip-ranges.json: which AWS service code an address belongs to.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock, OnceLock};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Deserialize;

use super::PrefixMap;
use crate::error::{Error, Result};

/// The snapshot compiled into the binary, so that classification works offline.
static BUILTIN_JSON: &[u8] = include_bytes!("../../data/ip-ranges.json");

/// The published ip-ranges, ready for lookups. Cloning is cheap (the table is shared).
#[derive(Debug, Clone, Default)]
pub struct IpRanges {
    /// `createDate` as published (`YYYY-MM-DD-hh-mm-ss`, UTC).
    pub create_date: String,
    /// `syncToken`: the publication time in epoch seconds.
    pub sync_token: String,
    table: Arc<LazyTable>,
}

/// The lookup table, built when first asked for when it is the built-in snapshot's: a
/// query that classifies no address (one over an export, which carries its enrichment, or
/// one that reads no enrichment column) does not parse 2.6 MB of JSON, a third of its
/// start-up.
#[derive(Debug, Default)]
struct LazyTable {
    table: OnceLock<Table>,
    /// Built from [`BUILTIN_JSON`] on first use (else the table is set, or empty).
    builtin: bool,
}

/// `createDate` and `syncToken` of [`BUILTIN_JSON`], known without parsing it (a test
/// checks them against the file: update them with it).
const BUILTIN_CREATE_DATE: &str = "2026-08-22-21-17-05";
const BUILTIN_SYNC_TOKEN: &str = "1787433425";

/// (service code, region) pairs are interned: millions of lookups return borrowed names.
#[derive(Default)]
struct Table {
    map: PrefixMap<u16>,
    services: Vec<(String, String)>,
    /// Entries in `prefixes` (a CIDR listed under several services counts once per entry).
    ipv4_prefixes: usize,
    /// Entries in `ipv6_prefixes`.
    ipv6_prefixes: usize,
}

impl std::fmt::Debug for Table {
    // Thousands of prefixes would drown any `{:?}` of an inventory.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("prefixes", &self.map.len())
            .field("service_regions", &self.services.len())
            .finish()
    }
}

#[derive(Deserialize)]
struct Doc<'a> {
    #[serde(rename = "syncToken", default)]
    sync_token: Option<serde_json::Value>,
    #[serde(rename = "createDate", default)]
    create_date: Option<serde_json::Value>,
    #[serde(borrow)]
    prefixes: Vec<DocEntry<'a>>,
    #[serde(borrow, default)]
    ipv6_prefixes: Vec<DocEntry<'a>>,
}

/// An entry of `prefixes` (`ip_prefix`) or `ipv6_prefixes` (`ipv6_prefix`).
#[derive(Deserialize)]
struct DocEntry<'a> {
    #[serde(borrow, alias = "ipv6_prefix")]
    ip_prefix: Cow<'a, str>,
    #[serde(borrow)]
    service: Cow<'a, str>,
    #[serde(borrow, default)]
    region: Cow<'a, str>,
}

impl IpRanges {
    /// The snapshot built into the binary: include_bytes!("../../data/ip-ranges.json"),
    /// parsed on its first lookup.
    pub fn builtin() -> IpRanges {
        // Every copy shares one table, built once.
        static BUILTIN: LazyLock<IpRanges> = LazyLock::new(|| IpRanges {
            create_date: BUILTIN_CREATE_DATE.to_string(),
            sync_token: BUILTIN_SYNC_TOKEN.to_string(),
            table: Arc::new(LazyTable {
                table: OnceLock::new(),
                builtin: true,
            }),
        });
        BUILTIN.clone()
    }

    fn table(&self) -> &Table {
        let lazy = &*self.table;
        lazy.table.get_or_init(|| {
            if !lazy.builtin {
                return Table::default();
            }
            match parse(BUILTIN_JSON, "built-in ip-ranges.json") {
                Ok((_, table)) => table,
                Err(e) => {
                    // Only a broken build gets here (the snapshot is tested); degrade to
                    // "no AWS service known" rather than abort an analysis.
                    tracing::error!("{e}");
                    Table::default()
                }
            }
        })
    }

    /// Entries in `prefixes` (a CIDR listed under several services counts once per entry).
    pub fn ipv4_prefixes(&self) -> usize {
        self.table().ipv4_prefixes
    }

    /// Entries in `ipv6_prefixes`.
    pub fn ipv6_prefixes(&self) -> usize {
        self.table().ipv6_prefixes
    }

    /// Parses an ip-ranges.json document; `source` names it in errors.
    pub fn from_json(bytes: &[u8], source: &str) -> Result<IpRanges> {
        let ((create_date, sync_token), table) = parse(bytes, source)?;
        Ok(IpRanges {
            create_date,
            sync_token,
            table: Arc::new(LazyTable {
                table: OnceLock::from(table),
                builtin: false,
            }),
        })
    }
    /// The ip-ranges service code of an address: the longest matching prefix; among
    /// equal-length prefixes a specific code (S3, EC2, DYNAMODB, …) wins over AMAZON.
    pub fn service(&self, ip: IpAddr) -> Option<&str> {
        self.service_region(ip).map(|(s, _)| s)
    }

    /// Like [`IpRanges::service`], with the entry's `region` (`us-east-1`, `GLOBAL`).
    pub fn service_region(&self, ip: IpAddr) -> Option<(&str, &str)> {
        self.entry(ip).map(|e| (e.service, e.region))
    }

    /// The published entry an address is in: the prefix that matched, its service code
    /// and region (one lookup gives what enrichment asks of an address).
    pub fn entry(&self, ip: IpAddr) -> Option<Entry<'_>> {
        let table = self.table();
        let (prefix, &code) = table.map.lookup_prefix(ip)?;
        let (service, region) = table.services.get(usize::from(code))?;
        Some(Entry {
            prefix,
            service,
            region,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.table().map.is_empty()
    }
}

/// An ip-ranges.json document's (`createDate`, `syncToken`) and lookup table; `source`
/// names it in errors.
fn parse(bytes: &[u8], source: &str) -> Result<((String, String), Table)> {
    let fail = |message: String| Error::Inventory {
        file: source.to_string(),
        message,
    };
    let doc: Doc = serde_json::from_slice(bytes)
        .map_err(|e| fail(format!("not an AWS ip-ranges.json document: {e}")))?;

    let mut services: Vec<(String, String)> = Vec::new();
    let mut codes: HashMap<(String, String), u16> = HashMap::new();
    let mut map = PrefixMap::new();
    let mut intern = |service: &str, region: &str| -> Result<(u16, u8)> {
        let key = (service.to_string(), region.to_string());
        let code = match codes.get(&key) {
            Some(&c) => c,
            None => {
                let c = u16::try_from(services.len())
                    .map_err(|_| fail("more than 65535 service and region pairs".to_string()))?;
                codes.insert(key.clone(), c);
                services.push(key);
                c
            }
        };
        Ok((code, priority(service)))
    };

    let v4 = doc.prefixes.iter().enumerate().map(|(i, e)| {
        let net = e.ip_prefix.parse::<Ipv4Net>().ok().map(IpNet::V4);
        (net, e, ("prefixes", i, "ip_prefix", "IPv4"))
    });
    let v6 = doc.ipv6_prefixes.iter().enumerate().map(|(i, e)| {
        let net = e.ip_prefix.parse::<Ipv6Net>().ok().map(IpNet::V6);
        (net, e, ("ipv6_prefixes", i, "ipv6_prefix", "IPv6"))
    });
    // `at` says where an entry is, for the error: list, index, field, family.
    for (net, e, (list, i, field, family)) in v4.chain(v6) {
        let net = net.ok_or_else(|| {
            fail(format!(
                "{list}[{i}].{field} {:?} is not an {family} CIDR",
                e.ip_prefix
            ))
        })?;
        let (code, prio) = intern(&e.service, &e.region)?;
        map.insert(net, code, prio);
    }
    map.build();

    let table = Table {
        map,
        services,
        ipv4_prefixes: doc.prefixes.len(),
        ipv6_prefixes: doc.ipv6_prefixes.len(),
    };
    Ok(((text(doc.create_date), text(doc.sync_token)), table))
}

/// An address's entry in ip-ranges.json (see [`IpRanges::entry`]).
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub prefix: IpNet,
    pub service: &'a str,
    pub region: &'a str,
}

/// AMAZON covers every other code, so it must lose ties. EC2 (customer instances) also
/// overlaps service ranges at the same length (3.5.140.0/22 is AMAZON, EC2 and S3); the
/// service-specific code is the more telling one, above all S3 and DYNAMODB, which decide
/// whether a gateway endpoint should have carried the traffic.
fn priority(service: &str) -> u8 {
    match service {
        "AMAZON" => 0,
        "EC2" => 1,
        _ => 2,
    }
}

/// `syncToken` is a string in every published file; accept a number too.
fn text(v: Option<serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn builtin_snapshot_parses() {
        let t = Instant::now();
        let r = IpRanges::from_json(BUILTIN_JSON, "built-in").expect("builtin parses");
        eprintln!("parsing the built-in ip-ranges.json took {:?}", t.elapsed());
        assert!(!r.is_empty());
        assert_eq!(r.create_date, "2026-08-22-21-17-05");
        assert_eq!(r.sync_token, "1787433425");
        assert_eq!(r.ipv4_prefixes(), 10666);
        assert_eq!(r.ipv6_prefixes(), 6160);
        // The built-in ranges' dates are constants, known before the table is built.
        let b = IpRanges::builtin();
        assert_eq!(b.create_date, r.create_date, "update BUILTIN_CREATE_DATE");
        assert_eq!(b.sync_token, r.sync_token, "update BUILTIN_SYNC_TOKEN");
        assert_eq!(b.ipv4_prefixes(), r.ipv4_prefixes());
        assert_eq!(b.ipv6_prefixes(), r.ipv6_prefixes());
    }

    #[test]
    fn specific_codes_win_over_amazon_at_equal_length() {
        let r = IpRanges::builtin();
        // 3.5.140.0/22 is listed as AMAZON, EC2 and S3.
        let s = r.service(ip("3.5.140.1"));
        assert!(matches!(s, Some(c) if c != "AMAZON"), "{s:?}");
        assert_eq!(s, Some("S3"));
    }

    #[test]
    fn s3_us_east_1() {
        let r = IpRanges::builtin();
        assert_eq!(r.service(ip("52.217.44.196")), Some("S3"));
        assert_eq!(r.service(ip("52.216.0.1")), Some("S3"));
        assert_eq!(r.service(ip("::ffff:52.217.44.196")), Some("S3"));
    }

    #[test]
    fn amazon_only_addresses() {
        let r = IpRanges::builtin();
        // 54.239.16.0/20 and 54.240.216.0/22 carry only AMAZON (the sample flow logs use
        // them for the SageMaker API).
        assert_eq!(r.service(ip("54.239.29.17")), Some("AMAZON"));
        assert_eq!(r.service(ip("54.240.217.13")), Some("AMAZON"));
        // 3.4.12.4/32 is the first entry of the file.
        assert_eq!(
            r.entry(ip("3.4.12.4")).map(|e| (e.prefix, e.service)),
            Some(("3.4.12.4/32".parse().expect("net"), "AMAZON"))
        );
    }

    #[test]
    fn addresses_outside_aws() {
        let r = IpRanges::builtin();
        assert_eq!(r.service(ip("10.0.0.1")), None);
        assert_eq!(r.service(ip("8.8.8.8")), None);
        assert_eq!(r.service(ip("203.0.113.50")), None);
        assert_eq!(r.service(ip("fd00::1")), None);
    }

    #[test]
    fn ipv6_s3() {
        let r = IpRanges::builtin();
        // 2600:1fa0:8000::/39 is S3 (and AMAZON) in us-east-1.
        assert_eq!(r.service(ip("2600:1fa0:80c0::1")), Some("S3"));
    }

    #[test]
    fn bad_documents_are_inventory_errors_naming_the_source() {
        let e = IpRanges::from_json(b"{\"prefixes\": 3}", "my-ranges.json").unwrap_err();
        assert!(matches!(&e, Error::Inventory { file, .. } if file == "my-ranges.json"));
        let e = IpRanges::from_json(
            br#"{"syncToken":"1","createDate":"x","prefixes":[{"ip_prefix":"1.2.3.0/33","region":"r","service":"S3","network_border_group":"r"}]}"#,
            "r.json",
        )
        .unwrap_err();
        assert!(e.to_string().contains("1.2.3.0/33"), "{e}");
    }

    #[test]
    fn small_document() {
        let r = IpRanges::from_json(
            br#"{"syncToken":"1","createDate":"2020-01-01-00-00-00",
                "prefixes":[{"ip_prefix":"1.0.0.0/8","service":"AMAZON"},
                            {"ip_prefix":"1.2.0.0/16","service":"AMAZON"},
                            {"ip_prefix":"1.2.0.0/16","service":"DYNAMODB"}],
                "ipv6_prefixes":[]}"#,
            "t",
        )
        .expect("parses");
        assert_eq!(r.service(ip("1.2.3.4")), Some("DYNAMODB"));
        assert_eq!(r.service(ip("1.3.3.4")), Some("AMAZON"));
        assert_eq!(r.ipv4_prefixes(), 3);
        assert_eq!(r.ipv6_prefixes(), 0);
    }
}
