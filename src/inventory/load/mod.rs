//! Reading AWS CLI JSON documents into an [`super::Inventory`].
//!
//! Documents are recognised by their top-level keys (`NetworkInterfaces`, `Vpcs`, …) or,
//! for SageMaker `describe-*` output, by their name keys (`TrainingJobName`, …). Parsing
//! is lenient about what is absent (the CLI omits empty fields) and loud about what is
//! present but unusable: every skipped document or field becomes a warning naming the
//! file.

mod cloudtrail;
mod doc;
mod ec2;
mod link;
mod sagemaker;
mod snapshot;

use std::path::{Path, PathBuf};

use serde_json::Value;

use self::doc::{Doc, Obj, kind, kind_rank};
use self::ec2::{
    add_eni, add_entries, add_flow_log, add_nat_gateway, add_prefix_list, add_route_table, add_vpc,
    add_vpc_endpoint,
};
use self::link::{
    check_gateway_routes, check_interface_endpoint_enis, check_route_prefix_lists,
    check_workload_times, link_cluster_nodes, link_nat_gateways, resolve_unassigned_entries,
};
use self::sagemaker::add_sagemaker;
use super::{Inventory, IpRanges};
use crate::error::{Error, Result};

/// Loads a file or directory (recursive; every *.json and *.json.gz file, CloudTrail digests
/// skipped; others skipped with a warning) of AWS CLI
/// output, plus ip-ranges: `ip_ranges` overrides the built-in snapshot. A directory or
/// file that does not exist, or a file that is not JSON, is an Error::Inventory naming
/// it. A document that is JSON but not recognised, or a field of a recognised document
/// that cannot be used (bad CIDR, bad address, unparseable time), becomes a warning in
/// `Inventory::warnings` naming the file and what was skipped — never a silent drop.
pub fn load(path: &Path, ip_ranges: Option<&Path>) -> Result<Inventory> {
    let mut inv = empty(ip_ranges)?;
    add_path(&mut inv, path)?;
    finish(&mut inv);
    Ok(inv)
}

/// What [`load`] does for one file or directory, into `inv` (several `--inventory`
/// sources make one inventory); call [`finish`] once every source is added.
pub fn add_path(inv: &mut Inventory, path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| missing(path, &e))?;
    let mut files = Vec::new();
    if meta.is_dir() {
        walk(path, 0, &mut files, &mut inv.warnings)?;
    } else {
        // A file named explicitly is read whatever its extension.
        files.push(path.to_path_buf());
    }

    let mut files: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|f| (f.display().to_string(), f))
        .collect();
    newest_first(&mut files, |(name, _)| name.as_str());
    for (name, f) in files {
        add_file(inv, &name, &read(&f)?)?;
    }
    Ok(())
}

pub use self::cloudtrail::{EVENTS as ENI_EVENTS, is_eni_event};

/// Orders files so that undated ones (taken now) come first, then dated snapshots newest
/// first: where two describe the same thing, the first read is kept, so the latest wins.
pub fn newest_first<T>(files: &mut [T], name: impl Fn(&T) -> &str) {
    files.sort_by_key(|f| {
        let t = snapshot::time_of(name(f));
        (t.is_some(), std::cmp::Reverse(t))
    });
}

/// An inventory with no document yet: the address ranges of `ip_ranges` (`--ip-ranges`,
/// which then wins over any ip-ranges.json among the documents) or the built-in snapshot.
pub fn empty(ip_ranges: Option<&Path>) -> Result<Inventory> {
    match ip_ranges {
        Some(p) => empty_with(Some((&p.display().to_string(), &read(p)?))),
        None => empty_with(None),
    }
}

/// [`empty`] with `--ip-ranges` given as (name, bytes).
fn empty_with(ip_ranges: Option<(&str, &[u8])>) -> Result<Inventory> {
    let mut inv = Inventory::default();
    if let Some((name, bytes)) = ip_ranges {
        inv.ip_ranges = IpRanges::from_json(bytes, name)?;
        inv.ip_ranges_source = Some(name.to_string());
        inv.ip_ranges_pinned = true;
        inv.originals.ip_ranges = Some((name.to_string(), bytes.into()));
    } else {
        inv.ip_ranges = IpRanges::builtin();
    }
    Ok(inv)
}

/// The inventory `originals` were read into, built again (on a worker of a distributed run).
pub fn rebuild(originals: &super::Originals) -> Result<Inventory> {
    let mut inv = empty_with(
        originals
            .ip_ranges
            .as_ref()
            .map(|(name, bytes)| (name.as_str(), &bytes[..])),
    )?;
    for (name, bytes) in &originals.files {
        add_file(&mut inv, name, bytes)?;
    }
    finish(&mut inv);
    Ok(inv)
}

/// Adds the documents of one file's bytes, named `file` (its name also carries prefix-list
/// ids): what [`load`] does for each file, without the file system, so that saved output
/// can come from anywhere (and be fuzzed). Call [`finish`] once every file is added.
pub fn add_file(inv: &mut Inventory, file: &str, bytes: &[u8]) -> Result<()> {
    // CloudTrail delivers gzip (`….json.gz`); anything else may be saved compressed too.
    let inflated = crate::source::compression::inflated(bytes).map_err(|e| Error::Inventory {
        file: file.to_string(),
        message: format!("not a whole gzip file: {e}"),
    })?;
    let bytes = &inflated[..];
    let values = parse_json(bytes).map_err(|message| Error::Inventory {
        file: file.to_string(),
        message,
    })?;
    inv.files.push(file.to_string());
    // A trail's files are mostly other services' events: workers get only the ENI events.
    let kept: std::sync::Arc<[u8]> = match values.as_slice() {
        [Value::Object(o)] if o.get("Records").is_some_and(Value::is_array) => {
            cloudtrail::eni_events_only(o).into()
        }
        _ => bytes.into(),
    };
    inv.originals.files.push((file.to_string(), kept));
    if let [Value::Object(o)] = values.as_slice()
        && o.contains_key("prefixes")
        && (o.contains_key("syncToken") || o.contains_key("createDate"))
    {
        add_ip_ranges(inv, file, bytes)?;
        return Ok(());
    }
    for v in values {
        add_document(inv, file, v);
    }
    Ok(())
}

/// An ip-ranges.json saved in the inventory (`inventory collect` fetches one): the newest
/// by `createDate`, the built-in snapshot included, is used, unless `--ip-ranges` was
/// given.
fn add_ip_ranges(inv: &mut Inventory, file: &str, bytes: &[u8]) -> Result<()> {
    let text = decode_text(bytes).map_err(|message| Error::Inventory {
        file: file.to_string(),
        message,
    })?;
    let ranges = IpRanges::from_json(text.as_bytes(), file)?;
    // `createDate` (YYYY-MM-DD-hh-mm-ss) sorts as text.
    if !inv.ip_ranges_pinned && ranges.create_date > inv.ip_ranges.create_date {
        inv.ip_ranges = ranges;
        inv.ip_ranges_source = Some(file.to_string());
    }
    Ok(())
}

/// Adds one parsed JSON value (a document or an array of documents) read from `file` to
/// `inv`.
pub fn add_document(inv: &mut Inventory, file: &str, value: Value) {
    match value {
        Value::Object(o) => add_object(inv, file, String::new(), &o),
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                let at = format!("[{i}]");
                match item {
                    Value::Object(o) => add_object(inv, file, at, &o),
                    other => inv.warnings.push(format!(
                        "{file}{at}: {} is not an AWS CLI document; skipped",
                        kind(&other)
                    )),
                }
            }
        }
        other => inv.warnings.push(format!(
            "{file}: {} is not an AWS CLI document; skipped",
            kind(&other)
        )),
    }
}

/// Call after all documents are added: resolves prefix-list entries to their lists, fills
/// NAT gateway ENI ids/IPs into the model, sorts for deterministic output.
pub fn finish(inv: &mut Inventory) {
    // First: the snapshots' ENIs are what the checks below see.
    cloudtrail::lifetimes(inv);
    snapshot::lifetimes(inv);
    resolve_unassigned_entries(inv);
    link_nat_gateways(inv);
    link_cluster_nodes(inv);
    check_route_prefix_lists(inv);
    check_interface_endpoint_enis(inv);
    check_gateway_routes(inv);
    check_workload_times(inv);

    inv.vpcs.sort_by(|a, b| a.id.cmp(&b.id));
    inv.vpc_endpoints.sort_by(|a, b| a.id.cmp(&b.id));
    inv.nat_gateways.sort_by(|a, b| a.id.cmp(&b.id));
    inv.route_tables.sort_by(|a, b| a.id.cmp(&b.id));
    inv.flow_logs.sort_by(|a, b| a.id.cmp(&b.id));
    inv.notebooks.sort_by(|a, b| a.name.cmp(&b.name));
    inv.domains.sort_by(|a, b| a.id.cmp(&b.id));
    inv.jobs.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then(kind_rank(a.kind).cmp(&kind_rank(b.kind)))
    });
    inv.models.sort_by(|a, b| a.name.cmp(&b.name));
    inv.endpoint_configs.sort_by(|a, b| a.name.cmp(&b.name));
    inv.endpoints.sort_by(|a, b| a.name.cmp(&b.name));
    inv.clusters.sort_by(|a, b| a.name.cmp(&b.name));
    inv.spaces
        .sort_by(|a, b| (&a.domain_id, &a.name).cmp(&(&b.domain_id, &b.name)));
    inv.cluster_nodes
        .sort_by(|a, b| (&a.cluster, &a.instance_id).cmp(&(&b.cluster, &b.instance_id)));
}

// ---------------------------------------------------------------------------------------
// Files

fn missing(path: &Path, e: &std::io::Error) -> Error {
    Error::Inventory {
        file: path.display().to_string(),
        message: if e.kind() == std::io::ErrorKind::NotFound {
            "no such file or directory".to_string()
        } else {
            e.to_string()
        },
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            missing(path, &e)
        } else {
            Error::io(path, e)
        }
    })
}

const MAX_DEPTH: usize = 32;

/// Collects `*.json` files under `dir`, sorted so that output does not depend on the
/// order the file system lists them in.
fn walk(
    dir: &Path,
    depth: usize,
    files: &mut Vec<PathBuf>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    // Symbolic links are followed, so a link to an ancestor would recurse forever.
    if depth > MAX_DEPTH {
        return Err(Error::Inventory {
            file: dir.display().to_string(),
            message: format!(
                "directories nested more than {MAX_DEPTH} deep (a symbolic link loop?)"
            ),
        });
    }
    for p in crate::store::sorted_entries(dir)? {
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            // .DS_Store, editor swap files, .git: never inventory.
            continue;
        }
        // `metadata` follows symbolic links, so linked files and directories are read.
        let meta = std::fs::metadata(&p).map_err(|e| Error::io(&p, e))?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if meta.is_dir() {
            if !name.eq_ignore_ascii_case(DIGESTS) {
                walk(&p, depth + 1, files, warnings)?;
            }
        } else if let Some(read) = wanted(&name) {
            if read {
                files.push(p);
            }
        } else {
            // `aws … > vpcs.txt` would otherwise vanish without a trace.
            warnings.push(format!("{}: not a *.json file; skipped", p.display()));
        }
    }
    Ok(())
}

/// The folder of a trail's digest files (`…/CloudTrail-Digest/…`): they sign the logs and
/// hold no events.
const DIGESTS: &str = "CloudTrail-Digest";

/// Whether a file (its path or S3 key) is read into the inventory: `Some(true)` for JSON
/// (`*.json`, and `*.json.gz` as CloudTrail delivers), `Some(false)` for a CloudTrail digest,
/// skipped without a word, `None` for anything else (skipped with a warning).
pub fn wanted(path: &str) -> Option<bool> {
    let lower = path.to_ascii_lowercase();
    if lower.contains("_cloudtrail-digest_") || lower.contains("/cloudtrail-digest/") {
        return Some(false);
    }
    (lower.ends_with(".json") || lower.ends_with(".json.gz")).then_some(true)
}

/// The JSON values in a file: usually one, several if output was appended with `>>`.
fn parse_json(bytes: &[u8]) -> std::result::Result<Vec<Value>, String> {
    let text = decode_text(bytes)?;
    let mut values = Vec::new();
    for v in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
        values.push(v.map_err(|e| format!("not JSON: {e}"))?);
    }
    if values.is_empty() {
        return Err("empty file, not JSON".to_string());
    }
    for v in serde_json::Deserializer::from_str(&text).into_iter::<UniqueKeys>() {
        v.map_err(|e| e.to_string())?;
    }
    Ok(values)
}

/// A JSON document whose documents (the top-level object, or each object of a top-level
/// array) name no key twice. The AWS CLI never writes a repeated key, but output merged
/// by hand can, and a JSON parser keeps the last value: `"NetworkInterfaces": [...]`
/// followed by `"NetworkInterfaces": []` would silently leave no ENI to attribute.
struct UniqueKeys;

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::{Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = UniqueKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON document")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<UniqueKeys, A::Error> {
                let mut seen = std::collections::HashSet::new();
                while let Some(k) = m.next_key::<String>()? {
                    if !seen.insert(k.clone()) {
                        return Err(A::Error::custom(format!(
                            "the key `{k}` appears twice in one document, and only one of its values could be used; save the AWS CLI output unmodified, one command per file"
                        )));
                    }
                    m.next_value::<IgnoredAny>()?;
                }
                Ok(UniqueKeys)
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> std::result::Result<UniqueKeys, A::Error> {
                while s.next_element::<UniqueKeys>()?.is_some() {}
                Ok(UniqueKeys)
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<UniqueKeys, E> {
                Ok(UniqueKeys)
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<UniqueKeys, E> {
                Ok(UniqueKeys)
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<UniqueKeys, E> {
                Ok(UniqueKeys)
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<UniqueKeys, E> {
                Ok(UniqueKeys)
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<UniqueKeys, E> {
                Ok(UniqueKeys)
            }
            fn visit_unit<E>(self) -> std::result::Result<UniqueKeys, E> {
                Ok(UniqueKeys)
            }
        }
        d.deserialize_any(Keys)
    }
}

/// Windows PowerShell 5 redirects (`aws … > x.json`) write UTF-16 with a byte-order mark,
/// and some editors add a UTF-8 one; serde_json accepts neither.
fn decode_text(bytes: &[u8]) -> std::result::Result<std::borrow::Cow<'_, str>, String> {
    let utf16 = |rest: &[u8], le: bool| -> std::result::Result<String, String> {
        let units = rest.chunks(2).map(|c| match (c, le) {
            ([a, b], true) => u16::from_le_bytes([*a, *b]),
            ([a, b], false) => u16::from_be_bytes([*a, *b]),
            _ => 0xfffd,
        });
        char::decode_utf16(units)
            .collect::<std::result::Result<String, _>>()
            .map_err(|_| "not valid UTF-16 text".to_string())
    };
    match bytes {
        [0xef, 0xbb, 0xbf, rest @ ..] => std::str::from_utf8(rest)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|_| "not valid UTF-8 text".to_string()),
        [0xff, 0xfe, rest @ ..] => utf16(rest, true).map(std::borrow::Cow::Owned),
        [0xfe, 0xff, rest @ ..] => utf16(rest, false).map(std::borrow::Cow::Owned),
        _ => std::str::from_utf8(bytes)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|_| "not JSON: not valid UTF-8 text".to_string()),
    }
}

const EC2_KEYS: [&str; 8] = [
    "Vpcs",
    "NetworkInterfaces",
    "VpcEndpoints",
    "NatGateways",
    "PrefixLists",
    "Entries",
    "RouteTables",
    "FlowLogs",
];

fn add_object(inv: &mut Inventory, file: &str, at: String, o: &Obj) {
    let mut doc = Doc {
        file,
        at,
        warnings: Vec::new(),
        snapshot: snapshot::time_of(file),
    };
    let mut recognised = false;
    if let Some(Value::Array(records)) = o.get("Records") {
        cloudtrail::add_records(inv, &mut doc, records);
        recognised = true;
    }
    for key in EC2_KEYS {
        let Some(list) = o.get(key) else { continue };
        recognised = true;
        if key == "NetworkInterfaces" && !inv.eni_files.iter().any(|f| f == file) {
            inv.eni_files.push(file.to_string());
        }
        if let (Some(t), "NetworkInterfaces") = (doc.snapshot, key) {
            inv.snapshots.push(t);
            inv.snapshot_series.push((snapshot::series_of(file), t));
        }
        let items = match list {
            Value::Array(items) => items,
            other => {
                doc.warn(format_args!(
                    "{key} is {}, not a list; skipped",
                    kind(other)
                ));
                continue;
            }
        };
        if key == "Entries" {
            add_entries(inv, &mut doc, items);
            continue;
        }
        if key == "FlowLogs" {
            inv.flow_logs_listed = true;
        }
        if key == "NetworkInterfaces" && items.is_empty() {
            inv.empty_eni_files.push(file.to_string());
        }
        for (i, item) in items.iter().enumerate() {
            let what = format!("{key}[{i}]");
            let Some(x) = doc.object_item(item, &what) else {
                continue;
            };
            match key {
                "Vpcs" => add_vpc(inv, &mut doc, x, &what),
                "NetworkInterfaces" => add_eni(inv, &mut doc, x, &what),
                "VpcEndpoints" => add_vpc_endpoint(inv, &mut doc, x, &what),
                "NatGateways" => add_nat_gateway(inv, &mut doc, x, &what),
                "PrefixLists" => add_prefix_list(inv, &mut doc, x, &what),
                "RouteTables" => add_route_table(inv, &mut doc, x, &what),
                "FlowLogs" => add_flow_log(inv, &mut doc, x, &what),
                _ => {}
            }
        }
    }
    if !recognised {
        recognised = add_sagemaker(inv, &mut doc, o);
    }
    if !recognised && let Some(list) = o.keys().find(|k| k.ends_with("Summaries")) {
        // `aws sagemaker list-training-jobs` and the like: names without the network
        // configuration the describe calls print.
        doc.warn(format_args!(
            "{list}: the output of an `aws sagemaker list-…` command names resources but not their VpcConfig, subnets or times; save `aws sagemaker describe-…` of each (or run `sageflow inventory collect`); skipped"
        ));
        recognised = true;
    }
    if !recognised {
        let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let shown = keys.iter().take(8).copied().collect::<Vec<_>>().join(", ");
        let more = if keys.len() > 8 { ", …" } else { "" };
        doc.warn(format_args!(
            "not a recognised AWS CLI document (top-level keys: {shown}{more}); skipped"
        ));
    }
    inv.warnings.append(&mut doc.warnings);
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use chrono::DateTime;
    use ipnet::IpNet;
    use serde_json::json;

    use super::*;
    use crate::inventory::{EndpointType, JobKind, RouteDestination};

    fn sample_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/inventory")
    }

    /// Issue 17, 12: a repeated key would keep only its last value (here: no ENI at all).
    #[test]
    fn a_document_with_a_repeated_key_is_refused() {
        let mut inv = Inventory::default();
        let merged = br#"{"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1"}],
            "NetworkInterfaces": []}"#;
        let e = add_file(&mut inv, "enis.json", merged)
            .unwrap_err()
            .to_string();
        assert!(e.contains("enis.json"), "{e}");
        assert!(
            e.contains("the key `NetworkInterfaces` appears twice"),
            "{e}"
        );
        assert!(e.contains("line 2"), "{e}");
        // In an array of documents, and in the second of two concatenated documents.
        for text in [
            &br#"[{"Vpcs": []}, {"Vpcs": [], "Vpcs": []}]"#[..],
            br#"{"Vpcs": []} {"FlowLogs": [], "FlowLogs": []}"#,
        ] {
            let e = add_file(&mut Inventory::default(), "x.json", text).unwrap_err();
            assert!(e.to_string().contains("appears twice"), "{e}");
        }
        // The same key in different objects is not a repeat.
        let fine = br#"{"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "Groups": []},
            {"NetworkInterfaceId": "eni-2", "Groups": []}]}"#;
        add_file(&mut inv, "enis.json", fine).unwrap();
        assert_eq!(inv.enis.len(), 2);
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn net(s: &str) -> IpNet {
        s.parse().expect("test net")
    }

    fn ts(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s)
            .expect("test time")
            .timestamp()
    }

    fn empty() -> Inventory {
        Inventory::default()
    }

    #[test]
    fn loads_the_sample_inventory() {
        let inv = load(&sample_dir(), None).expect("sample loads");
        assert!(inv.warnings.is_empty(), "{:#?}", inv.warnings);
        // 18 AWS CLI documents and the trail's two log files (its digest is skipped).
        assert_eq!(inv.files.len(), 21);
        assert_eq!(inv.lifetimes.len(), 1);
        assert_eq!(inv.lifetimes[0].eni.id, "eni-0c7d2f4a9e1b35680");

        assert_eq!(inv.vpcs.len(), 2);
        assert_eq!(inv.vpcs[0].id, "vpc-0a1b2c3d4e5f60001");
        assert_eq!(
            inv.vpcs[0].cidrs,
            vec![
                net("10.20.0.0/16"),
                net("10.21.0.0/16"),
                net("2600:1f18:4a1b:c200::/56")
            ]
        );
        assert_eq!(inv.vpcs[1].id, "vpc-0ffff00000000002");
        assert_eq!(inv.vpcs[1].cidrs, vec![net("10.99.0.0/16")]);

        assert_eq!(inv.enis.len(), 16);
        let train = &inv.enis["eni-07c690cc407310f14"];
        assert_eq!(train.addresses, vec![ip("10.20.1.30"), ip("10.20.1.31")]);
        assert!(train.requester_managed);
        assert_eq!(
            train.attachment_id.as_deref(),
            Some("ela-attach-0a5ff5d2cc97d4eb6")
        );
        assert_eq!(train.security_group_ids, vec!["sg-0train0000000001"]);
        assert_eq!(train.subnet_id.as_deref(), Some("subnet-0sm000000000000a1"));
        let alice = &inv.enis["eni-090c59fc3872ef3a7"];
        assert_eq!(alice.tags.len(), 1);
        assert_eq!(alice.tags[0].0, "ManagedByAmazonSageMakerResource");
        assert_eq!(
            alice.security_group_names,
            vec![
                "sagemaker-studio-d-sample12345",
                "security-group-for-outbound-nfs-d-sample12345"
            ]
        );
        let nat_eni = &inv.enis["eni-058c7e05a713cb4eb"];
        assert_eq!(nat_eni.interface_type, "nat_gateway");
        assert_eq!(nat_eni.public_ip, Some(ip("44.200.10.10")));
        let ec2 = &inv.enis["eni-031f66b9f7187a70d"];
        assert_eq!(ec2.instance_id.as_deref(), Some("i-0a7e3c2b1d4f56789"));

        assert_eq!(inv.vpc_endpoints.len(), 4);
        let api = inv
            .vpc_endpoints
            .iter()
            .find(|e| e.id == "vpce-0api0000000000001")
            .expect("api endpoint");
        assert_eq!(api.endpoint_type, EndpointType::Interface);
        assert_eq!(api.eni_ids, vec!["eni-0c5bde740a6b7c1ba"]);
        assert_eq!(api.private_dns_enabled, Some(true));
        let s3 = inv
            .vpc_endpoints
            .iter()
            .find(|e| e.id == "vpce-0s3gw000000000001")
            .expect("s3 endpoint");
        assert_eq!(s3.endpoint_type, EndpointType::Gateway);
        assert_eq!(s3.route_table_ids, vec!["rtb-0priv000000000001"]);

        assert_eq!(inv.nat_gateways.len(), 1);
        let nat = &inv.nat_gateways[0];
        assert_eq!(nat.id, "nat-0a1b2c3d4e5f60001");
        assert_eq!(nat.eni_ids, vec!["eni-058c7e05a713cb4eb"]);
        assert_eq!(nat.private_ips, vec![ip("10.20.0.50")]);
        assert_eq!(nat.public_ips, vec![ip("44.200.10.10")]);
        assert_eq!(nat.connectivity, "public");

        assert_eq!(inv.prefix_lists.len(), 2);
        let pl = &inv.prefix_lists["pl-63a5400a"];
        assert_eq!(pl.name, "com.amazonaws.us-east-1.s3");
        assert_eq!(
            pl.cidrs,
            vec![
                net("52.216.0.0/15"),
                net("54.231.0.0/16"),
                net("16.182.0.0/16"),
                net("3.5.0.0/19")
            ]
        );
        assert!(inv.prefix_lists["pl-02cd2c6b"].cidrs.is_empty());

        assert_eq!(inv.route_tables.len(), 3);
        let private = inv
            .route_tables
            .iter()
            .find(|r| r.id == "rtb-0priv000000000001")
            .expect("private table");
        assert!(private.main);
        assert_eq!(private.subnet_ids.len(), 3);
        assert_eq!(private.routes.len(), 6);
        assert!(private.routes.iter().any(|r| matches!(
            &r.destination,
            RouteDestination::PrefixList(p) if p == "pl-63a5400a"
        ) && r.target == "vpce-0s3gw000000000001"));
        assert!(
            private
                .routes
                .iter()
                .any(|r| r.target == "pcx-0a1b2c3d4e5f60001")
        );
        assert!(
            private
                .routes
                .iter()
                .any(|r| r.target == "nat-0a1b2c3d4e5f60001")
        );

        assert_eq!(inv.flow_logs.len(), 3);
        let ids: Vec<&str> = inv.flow_logs.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "fl-0aaa1111bbbb22220",
                "fl-0ccc3333dddd44440",
                "fl-0eee5555ffff66660"
            ]
        );
        assert!(
            inv.flow_logs[0]
                .log_format
                .as_deref()
                .is_some_and(|f| f.ends_with("${action} ${log-status}"))
        );
        assert!(
            inv.flow_logs[1]
                .log_format
                .as_deref()
                .is_some_and(|f| f.ends_with("${flow-direction} ${traffic-path}"))
        );
        assert_eq!(inv.flow_logs[2].log_format, inv.flow_logs[1].log_format);
        assert_eq!(inv.flow_logs[2].resource_id, "vpc-0a1b2c3d4e5f60001");
        assert_eq!(inv.flow_logs[2].destination_type.as_deref(), Some("s3"));

        assert_eq!(inv.notebooks.len(), 2);
        assert_eq!(inv.notebooks[0].name, "nb-analyst");
        assert_eq!(
            inv.notebooks[0].eni_id.as_deref(),
            Some("eni-05aec870f7b234ef9")
        );
        assert!(!inv.notebooks[0].direct_internet_access);
        assert!(inv.notebooks[1].direct_internet_access);

        assert_eq!(inv.domains.len(), 2);
        assert_eq!(inv.domains[0].id, "d-public0000");
        assert_eq!(inv.domains[0].app_network_access_type, "PublicInternetOnly");
        assert_eq!(
            inv.domains[1].security_group_ids,
            vec!["sg-0studio000000001"]
        );
        assert_eq!(inv.domains[1].subnet_ids.len(), 2);

        assert_eq!(inv.jobs.len(), 4);
        let a = inv
            .jobs
            .iter()
            .find(|j| j.name == "train-a")
            .expect("train-a");
        assert_eq!(a.kind, JobKind::Training);
        assert_eq!(a.start, Some(ts("2026-11-20T10:00:00Z")));
        assert_eq!(a.end, Some(ts("2026-11-20T10:40:01Z")));
        assert_eq!(a.security_group_ids, vec!["sg-0train0000000001"]);
        assert_eq!(a.subnets.len(), 2);
        let p = inv
            .jobs
            .iter()
            .find(|j| j.name == "proc-1")
            .expect("proc-1");
        assert_eq!(p.kind, JobKind::Processing);
        assert_eq!(p.subnets, vec!["subnet-0sm000000000000c3"]);
        assert_eq!(p.end, Some(ts("2026-11-20T12:00:01Z")));

        assert_eq!(inv.endpoints.len(), 1);
        assert_eq!(inv.endpoints[0].name, "ep-x");
        assert_eq!(inv.endpoints[0].config_name, "epc-x");
        assert_eq!(inv.endpoint_configs.len(), 1);
        assert_eq!(inv.endpoint_configs[0].name, "epc-x");
        assert_eq!(inv.endpoint_configs[0].model_names, vec!["model-x"]);
        assert_eq!(inv.models.len(), 1);
        assert_eq!(inv.models[0].name, "model-x");
        assert_eq!(
            inv.models[0].security_group_ids,
            vec!["sg-0model0000000001"]
        );

        assert!(!inv.ip_ranges.is_empty());
    }

    #[test]
    fn a_json_file_that_is_not_json_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("vpcs.json"), r#"{"Vpcs": []}"#).expect("write");
        std::fs::write(
            dir.path().join("broken.json"),
            "An error occurred (Unauthorized)",
        )
        .expect("write");
        let e = load(dir.path(), None).unwrap_err();
        match &e {
            Error::Inventory { file, message } => {
                assert!(file.ends_with("broken.json"), "{file}");
                assert!(message.contains("not JSON"), "{message}");
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert!(e.hint().is_some());
    }

    #[test]
    fn missing_paths_are_errors_naming_them() {
        let e = load(Path::new("/nonexistent/inventory"), None).unwrap_err();
        assert!(
            matches!(&e, Error::Inventory { file, .. } if file == "/nonexistent/inventory"),
            "{e:?}"
        );
        let e = load(
            &sample_dir(),
            Some(Path::new("/nonexistent/ip-ranges.json")),
        )
        .unwrap_err();
        assert!(
            matches!(&e, Error::Inventory { file, .. } if file.ends_with("ip-ranges.json")),
            "{e:?}"
        );
    }

    #[test]
    fn other_files_and_empty_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("notes.txt"), "hello").expect("write");
        std::fs::write(dir.path().join(".DS_Store"), "x").expect("write");
        let inv = load(dir.path(), None).expect("loads");
        assert!(inv.files.is_empty());
        assert_eq!(inv.warnings.len(), 1, "{:?}", inv.warnings);
        assert!(inv.warnings[0].contains("notes.txt"));

        std::fs::write(dir.path().join("empty.json"), "  \n").expect("write");
        let e = load(dir.path(), None).unwrap_err();
        assert!(e.to_string().contains("empty.json"), "{e}");
    }

    #[test]
    fn a_single_file_nested_dirs_bom_and_concatenated_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sub = dir.path().join("ec2/us-east-1");
        std::fs::create_dir_all(&sub).expect("mkdir");
        let mut bytes = vec![0xef, 0xbb, 0xbf];
        bytes.extend_from_slice(br#"{"Vpcs":[{"VpcId":"vpc-1","CidrBlock":"10.0.0.0/16"}]}"#);
        bytes.extend_from_slice(br#"{"Vpcs":[{"VpcId":"vpc-2","CidrBlock":"10.1.0.0/16"}]}"#);
        std::fs::write(sub.join("vpcs.json"), &bytes).expect("write");
        // PowerShell 5 redirection: UTF-16LE with a byte-order mark.
        let mut utf16 = vec![0xff, 0xfe];
        for u in r#"{"FlowLogs":[{"FlowLogId":"fl-1","ResourceId":"vpc-1"}]}"#.encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        std::fs::write(dir.path().join("flow-logs.json"), &utf16).expect("write");

        let inv = load(dir.path(), None).expect("loads");
        assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
        assert_eq!(inv.vpcs.len(), 2);
        assert_eq!(inv.flow_logs.len(), 1);
        assert_eq!(inv.flow_logs[0].log_format, None);

        let one = load(&sub.join("vpcs.json"), None).expect("loads a file");
        assert_eq!(one.files.len(), 1);
        assert_eq!(one.vpcs.len(), 2);
    }

    #[test]
    fn bytes_from_anywhere_load_like_a_file() {
        let mut inv = empty();
        let mut utf16 = vec![0xfe, 0xff];
        for u in r#"{"Vpcs":[{"VpcId":"vpc-1","CidrBlock":"10.0.0.0/16"}]}"#.encode_utf16() {
            utf16.extend_from_slice(&u.to_be_bytes());
        }
        add_file(&mut inv, "s3://bucket/vpcs.json", &utf16).expect("UTF-16BE loads");
        assert_eq!(inv.vpcs.len(), 1);
        assert_eq!(inv.files, vec!["s3://bucket/vpcs.json".to_string()]);
        let e = add_file(&mut inv, "s3://bucket/broken.json", b"\xef\xbb\xbf{").unwrap_err();
        assert!(
            matches!(&e, Error::Inventory { file, message } if file == "s3://bucket/broken.json" && message.contains("not JSON")),
            "{e:?}"
        );
    }

    #[test]
    fn unknown_documents_become_warnings() {
        let mut inv = empty();
        add_document(
            &mut inv,
            "users.json",
            json!({"Users": [{"UserName": "alice"}], "IsTruncated": false}),
        );
        add_document(&mut inv, "n.json", json!(42));
        add_document(
            &mut inv,
            "profile.json",
            json!({"DomainId": "d-1", "UserProfileName": "alice"}),
        );
        finish(&mut inv);
        assert_eq!(inv.warnings.len(), 3, "{:#?}", inv.warnings);
        assert!(inv.warnings[0].starts_with("users.json: not a recognised AWS CLI document"));
        assert!(inv.warnings[0].contains("IsTruncated, Users"));
        assert!(inv.warnings[1].starts_with("n.json: a number"));
        // describe-user-profile carries a DomainId but is not a domain.
        assert!(
            inv.warnings[2].starts_with(
                "profile.json: describe-user-profile or describe-app output is not used"
            ),
            "{}",
            inv.warnings[2]
        );
        assert!(inv.domains.is_empty());
    }

    #[test]
    fn unusable_fields_become_warnings() {
        let mut inv = empty();
        add_document(
            &mut inv,
            "bad.json",
            json!({
                "Vpcs": [
                    {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/33",
                     "CidrBlockAssociationSet": [
                        {"CidrBlock": "10.0.0.0/16", "CidrBlockState": {"State": "associated"}},
                        {"CidrBlock": "10.9.0.0/16", "CidrBlockState": {"State": "disassociated"}}
                     ]},
                    {"CidrBlock": "10.1.0.0/16"}
                ],
                "NetworkInterfaces": [
                    {"NetworkInterfaceId": "eni-1",
                     "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.300", "Primary": true},
                                            {"PrivateIpAddress": "10.0.0.5"}]}
                ]
            }),
        );
        add_document(
            &mut inv,
            "job.json",
            json!({"TrainingJobName": "t", "TrainingStartTime": "yesterday",
                   "TrainingEndTime": "2026-11-20T10:40:00+00:00"}),
        );
        finish(&mut inv);
        let w = inv.warnings.join("\n");
        assert_eq!(inv.warnings.len(), 4, "{w}");
        assert!(
            w.contains("bad.json: vpc-1: CidrBlock \"10.0.0.0/33\" is not a CIDR"),
            "{w}"
        );
        assert!(w.contains("bad.json: Vpcs[1]: no VpcId; skipped"), "{w}");
        assert!(
            w.contains("eni-1: PrivateIpAddresses[0].PrivateIpAddress \"10.0.0.300\""),
            "{w}"
        );
        assert!(
            w.contains("job.json: training job t: TrainingStartTime \"yesterday\""),
            "{w}"
        );
        assert_eq!(inv.vpcs.len(), 1);
        assert_eq!(inv.vpcs[0].cidrs, vec![net("10.0.0.0/16")]);
        assert_eq!(inv.enis["eni-1"].addresses, vec![ip("10.0.0.5")]);
        assert_eq!(inv.jobs[0].start, None);
        assert_eq!(inv.jobs[0].end, Some(ts("2026-11-20T10:40:00Z")));
    }

    #[test]
    fn an_array_of_sagemaker_documents() {
        let mut inv = empty();
        add_document(
            &mut inv,
            "jobs.json",
            json!([
                {"TrainingJobName": "t1", "TrainingStartTime": "2026-11-20T10:00:00Z",
                 "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}},
                {"TransformJobName": "x1", "ModelName": "m1",
                 "TransformStartTime": "2026-11-20T11:00:00.5+01:00"},
                "not a document"
            ]),
        );
        finish(&mut inv);
        assert_eq!(inv.jobs.len(), 2);
        assert_eq!(inv.jobs[0].name, "t1");
        assert_eq!(inv.jobs[0].security_group_ids, vec!["sg-1"]);
        assert_eq!(inv.jobs[0].end, None);
        assert_eq!(inv.jobs[1].kind, JobKind::Transform);
        assert_eq!(inv.jobs[1].model_name.as_deref(), Some("m1"));
        assert_eq!(inv.jobs[1].start, Some(ts("2026-11-20T10:00:00Z")));
        assert_eq!(
            inv.warnings,
            vec!["jobs.json[2]: a string is not an AWS CLI document; skipped"]
        );
    }

    #[test]
    fn epoch_number_times() {
        let mut inv = empty();
        add_document(
            &mut inv,
            "p.json",
            json!({"ProcessingJobName": "p", "ProcessingStartTime": 1_795_687_200.318_f64,
                   "ProcessingEndTime": 1_795_689_600.775_f64,
                   "NetworkConfig": {"VpcConfig": {"SecurityGroupIds": ["sg-p"], "Subnets": []}}}),
        );
        add_document(
            &mut inv,
            "q.json",
            json!({"ProcessingJobName": "q", "ProcessingStartTime": 1_795_687_200_i64,
                   "ProcessingEndTime": 1_795_689_600_i64}),
        );
        finish(&mut inv);
        assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
        assert_eq!(inv.jobs[0].start, Some(1_795_687_200));
        assert_eq!(inv.jobs[0].end, Some(1_795_689_601));
        assert_eq!(inv.jobs[0].security_group_ids, vec!["sg-p"]);
        assert_eq!(inv.jobs[1].start, Some(1_795_687_200));
        assert_eq!(inv.jobs[1].end, Some(1_795_689_600));
    }

    #[test]
    fn prefix_list_entries_without_an_id_in_the_file_name() {
        let entries = json!({"Entries": [{"Cidr": "52.216.0.0/15"}, {"Cidr": "bogus"}]});

        let mut inv = empty();
        add_document(
            &mut inv,
            "pl.json",
            json!({"PrefixLists": [{"PrefixListId": "pl-63a5400a",
                                    "PrefixListName": "com.amazonaws.us-east-1.s3"}]}),
        );
        add_document(&mut inv, "entries.json", entries.clone());
        finish(&mut inv);
        assert_eq!(
            inv.prefix_lists["pl-63a5400a"].cidrs,
            vec![net("52.216.0.0/15")]
        );
        assert_eq!(inv.warnings.len(), 1, "{:?}", inv.warnings);
        assert!(inv.warnings[0].contains("\"bogus\" is not a CIDR"));

        let mut inv = empty();
        add_document(
            &mut inv,
            "pl.json",
            json!({"PrefixLists": [{"PrefixListId": "pl-63a5400a"}, {"PrefixListId": "pl-02cd2c6b"}]}),
        );
        add_document(&mut inv, "entries.json", entries.clone());
        finish(&mut inv);
        assert!(inv.prefix_lists.values().all(|p| p.cidrs.is_empty()));
        assert!(
            inv.warnings
                .iter()
                .any(|w| w.starts_with("entries.json: 1 prefix-list entries")),
            "{:?}",
            inv.warnings
        );

        let mut inv = empty();
        add_document(&mut inv, "dir/pl-0123456789abcdef0/entries.json", entries);
        finish(&mut inv);
        assert_eq!(
            inv.prefix_lists["pl-0123456789abcdef0"].cidrs,
            vec![net("52.216.0.0/15")]
        );
    }

    #[test]
    fn older_describe_prefix_lists_and_routes_to_unknown_lists() {
        let mut inv = empty();
        add_document(
            &mut inv,
            "pl.json",
            json!({"PrefixLists": [{"PrefixListId": "pl-63a5400a",
                                    "PrefixListName": "com.amazonaws.us-east-1.s3",
                                    "Cidrs": ["52.216.0.0/15", "3.5.0.0/19"]}]}),
        );
        add_document(
            &mut inv,
            "rt.json",
            json!({"RouteTables": [{"RouteTableId": "rtb-1", "VpcId": "vpc-1",
            "Associations": [{"Main": true}],
            "Routes": [
                {"DestinationPrefixListId": "pl-63a5400a", "GatewayId": "vpce-1"},
                {"DestinationPrefixListId": "pl-02cd2c6b", "GatewayId": "vpce-2"},
                {"DestinationCidrBlock": "0.0.0.0/0", "State": "blackhole"}
            ]}]}),
        );
        finish(&mut inv);
        assert_eq!(inv.prefix_lists["pl-63a5400a"].cidrs.len(), 2);
        assert_eq!(inv.route_tables[0].routes.len(), 2);
        assert!(inv.route_tables[0].main);
        assert_eq!(inv.warnings.len(), 2, "{:#?}", inv.warnings);
        assert!(inv.warnings[0].contains("Routes[2] has no target"));
        assert!(inv.warnings[1].contains("pl-02cd2c6b"));
    }

    #[test]
    fn nat_gateways_are_linked_from_either_side() {
        let mut inv = empty();
        add_document(
            &mut inv,
            "enis.json",
            json!({"NetworkInterfaces": [{
                "NetworkInterfaceId": "eni-nat", "VpcId": "vpc-1",
                "InterfaceType": "nat_gateway",
                "Description": "Interface for NAT Gateway nat-9",
                "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.9", "Primary": true}],
                "Association": {"PublicIp": "198.51.100.9"}}]}),
        );
        finish(&mut inv);
        assert_eq!(inv.nat_gateways.len(), 1);
        let nat = &inv.nat_gateways[0];
        assert_eq!(nat.id, "nat-9");
        assert_eq!(nat.eni_ids, vec!["eni-nat"]);
        assert_eq!(nat.private_ips, vec![ip("10.0.0.9")]);
        assert_eq!(nat.public_ips, vec![ip("198.51.100.9")]);
        assert_eq!(nat.connectivity, "public");
    }

    /// The CLI's node documents do not name their cluster: a node goes to the only
    /// cluster with its instance group, describe-cluster-node adds its address to the
    /// list-cluster-nodes entry, and a group two clusters share is a warning naming the
    /// file, not a guess.
    #[test]
    fn hyperpod_nodes_are_tied_to_their_cluster() {
        let mut inv = empty();
        let cluster = |name: &str, groups: &[&str]| {
            json!({"ClusterArn": format!("arn:aws:sagemaker:us-east-1:1:cluster/{name}id"),
                   "ClusterName": name, "ClusterStatus": "InService",
                   "CreationTime": "2026-11-25T07:00:00.000000+00:00",
                   "InstanceGroups": groups.iter().map(|g| json!({"InstanceGroupName": g})).collect::<Vec<_>>(),
                   "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]},
                   "Orchestrator": {"Eks": {"ClusterArn": "arn:aws:eks:us-east-1:1:cluster/k"}}})
        };
        add_document(&mut inv, "a.json", cluster("a", &["controller", "workers"]));
        add_document(&mut inv, "b.json", cluster("b", &["workers", "login"]));
        add_document(
            &mut inv,
            "list-cluster-nodes.json",
            json!({"ClusterNodeSummaries": [
                {"InstanceGroupName": "controller", "InstanceId": "i-1"},
                {"InstanceGroupName": "workers", "InstanceId": "i-2"}]}),
        );
        add_document(
            &mut inv,
            "describe-cluster-node.json",
            json!({"NodeDetails": {"InstanceGroupName": "controller", "InstanceId": "i-1",
                                   "PrivatePrimaryIp": "10.0.1.5"}}),
        );
        finish(&mut inv);
        assert_eq!(inv.clusters.len(), 2);
        assert_eq!(inv.clusters[0].orchestrator, "eks");
        let nodes: Vec<_> = inv
            .cluster_nodes
            .iter()
            .map(|n| (n.cluster.as_str(), n.instance_id.as_str(), n.private_ip))
            .collect();
        assert_eq!(
            nodes,
            [("", "i-2", None), ("a", "i-1", Some(ip("10.0.1.5")))]
        );
        assert_eq!(inv.warnings.len(), 1, "{:#?}", inv.warnings);
        assert!(
            inv.warnings[0].starts_with("list-cluster-nodes.json: 1 HyperPod node(s) of instance group workers name no cluster")
                && inv.warnings[0].contains("clusters a, b all have"),
            "{}",
            inv.warnings[0]
        );
    }

    /// A `list-*` output is named as such, with the describe command to use instead; a
    /// Studio user profile's or app's says it is not needed.
    #[test]
    fn list_outputs_say_which_describe_to_save() {
        let mut inv = empty();
        add_document(
            &mut inv,
            "training-jobs.json",
            json!({"TrainingJobSummaries": [{"TrainingJobName": "t"}], "NextToken": "x"}),
        );
        add_document(
            &mut inv,
            "app.json",
            json!({"DomainId": "d-1", "AppName": "default", "SpaceName": "team", "AppType": "JupyterLab"}),
        );
        assert_eq!(inv.warnings.len(), 2);
        assert!(
            inv.warnings[1]
                .starts_with("app.json: describe-user-profile or describe-app output is not used"),
            "{}",
            inv.warnings[1]
        );
        assert!(inv.domains.is_empty());
        assert!(
            inv.warnings[0].starts_with("training-jobs.json: TrainingJobSummaries: the output of an `aws sagemaker list-…` command")
                && inv.warnings[0].contains("describe-…"),
            "{}",
            inv.warnings[0]
        );
    }

    /// Studio spaces from describe-space and list-spaces, once each.
    #[test]
    fn studio_spaces() {
        let mut inv = empty();
        add_document(
            &mut inv,
            "describe-space.json",
            json!({"DomainId": "d-1", "SpaceArn": "arn:aws:sagemaker:us-east-1:1:space/d-1/alice-lab",
                   "SpaceName": "alice-lab", "Status": "InService",
                   "OwnershipSettings": {"OwnerUserProfileName": "alice"},
                   "SpaceSharingSettings": {"SharingType": "Private"}}),
        );
        add_document(
            &mut inv,
            "list-spaces.json",
            json!({"Spaces": [
                {"DomainId": "d-1", "SpaceName": "alice-lab",
                 "OwnershipSettingsSummary": {"OwnerUserProfileName": "alice"},
                 "SpaceSharingSettingsSummary": {"SharingType": "Private"}},
                {"DomainId": "d-1", "SpaceName": "team",
                 "OwnershipSettingsSummary": {"OwnerUserProfileName": "bob"},
                 "SpaceSharingSettingsSummary": {"SharingType": "Shared"}}]}),
        );
        finish(&mut inv);
        assert!(inv.warnings.is_empty(), "{:#?}", inv.warnings);
        let space = |name: &str, owner: &str, shared| crate::inventory::Space {
            domain_id: "d-1".into(),
            name: name.into(),
            owner: Some(owner.into()),
            shared,
        };
        assert_eq!(
            inv.spaces,
            [
                space("alice-lab", "alice", false),
                space("team", "bob", true)
            ]
        );
    }

    #[test]
    fn repeated_resources_are_kept_once() {
        let mut inv = empty();
        let vpc = json!({"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]});
        add_document(&mut inv, "a.json", vpc.clone());
        add_document(&mut inv, "b.json", vpc);
        add_document(
            &mut inv,
            "c.json",
            json!({"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.7.0.0/16"}]}),
        );
        finish(&mut inv);
        assert_eq!(inv.vpcs.len(), 1);
        assert_eq!(inv.vpcs[0].cidrs, vec![net("10.0.0.0/16")]);
        assert_eq!(inv.warnings.len(), 1, "{:?}", inv.warnings);
        assert!(inv.warnings[0].starts_with("c.json: VPC vpc-1 was already loaded"));
    }
}
