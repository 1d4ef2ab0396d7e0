//! CloudTrail log files (`{"Records": [...]}`, as a trail delivers them to S3): the EC2
//! calls that create, tag and delete ENIs, from which [`lifetimes`] builds each ENI's
//! life. The ENIs of finished jobs are gone from `describe-network-interfaces`; CloudTrail
//! still has them.
//!
//! Record shapes follow the AWS documentation's example (the Amazon EFS User Guide,
//! "Logging Amazon EFS API calls with AWS CloudTrail", `CreateNetworkInterface` made by a
//! service-linked role): `responseElements.networkInterface` with `groupSet.items[].groupId`,
//! `privateIpAddressesSet.item[].privateIpAddress` and `tagSet`.

use serde_json::Value;

use super::doc::{Doc, Obj, Round};
use crate::inventory::{Eni, EniEvent, EniEventKind, EniLifetime, Inventory, LifetimeSource};

/// The EC2 calls that change an ENI's life, identity or attachment. Attaching and
/// detaching keep the ENI, its addresses and its owner; they say which instance had it.
pub const EVENTS: [&str; 5] = [
    "CreateNetworkInterface",
    "DeleteNetworkInterface",
    "CreateTags",
    "AttachNetworkInterface",
    "DetachNetworkInterface",
];

/// Reads one CloudTrail document's records. Failed calls (`errorCode`: a DryRun, a denied
/// or invalid request) changed nothing and are counted, not used.
pub(super) fn add_records(inv: &mut Inventory, doc: &mut Doc, records: &[Value]) {
    inv.trail.files += 1;
    for (i, r) in records.iter().enumerate() {
        let what = format!("Records[{i}]");
        let Some(r) = doc.object_item(r, &what) else {
            continue;
        };
        inv.trail.records += 1;
        let name = r.get("eventName").and_then(Value::as_str).unwrap_or("");
        let source = r.get("eventSource").and_then(Value::as_str).unwrap_or("");
        if source != "ec2.amazonaws.com" || !EVENTS.contains(&name) {
            continue;
        }
        if r.get("errorCode").is_some_and(|c| !c.is_null()) {
            inv.trail.failed_calls += 1;
            continue;
        }
        let Some(time) = doc.time(r, "eventTime", &what, Round::Down) else {
            doc.warn(format_args!(
                "{what} ({name}): no usable eventTime; skipped"
            ));
            continue;
        };
        let kind = match name {
            "CreateNetworkInterface" => created(doc, r, &what),
            "DeleteNetworkInterface" => request_eni(r).map(EniEventKind::Delete),
            "AttachNetworkInterface" => attached(r),
            "DetachNetworkInterface" => r
                .get("requestParameters")
                .and_then(|p| p.get("attachmentId"))
                .and_then(Value::as_str)
                .map(|a| EniEventKind::Detach(a.to_string())),
            _ => match tagged(r) {
                Some(k) => Some(k),
                // Tags on instances or volumes: not about an ENI.
                None => continue,
            },
        };
        let Some(kind) = kind else {
            doc.warn(format_args!(
                "{what} ({name}): no network interface in the record; skipped"
            ));
            continue;
        };
        inv.trail.range = Some(match inv.trail.range {
            Some((a, b)) => (a.min(time), b.max(time)),
            None => (time, time),
        });
        inv.eni_events.push(EniEvent {
            time,
            kind,
            file: doc.file.to_string(),
        });
    }
}

/// A CloudTrail document cut to the records [`add_records`] reads (failed calls included,
/// so that they are counted alike): what a distributed run's workers rebuild the same
/// lifetimes from, without the trail's other events.
pub(super) fn eni_events_only(o: &Obj) -> Vec<u8> {
    let records: Vec<&Value> = o
        .get("Records")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| is_eni_event(r))
        .collect();
    serde_json::to_vec(&serde_json::json!({ "Records": records })).expect("JSON values serialise")
}

/// Whether a CloudTrail record is one of the ENI events lifetimes are built from.
pub fn is_eni_event(r: &Value) -> bool {
    r.get("eventSource").and_then(Value::as_str) == Some("ec2.amazonaws.com")
        && r.get("eventName")
            .and_then(Value::as_str)
            .is_some_and(|n| EVENTS.contains(&n))
}

/// `AttachNetworkInterface`: the ENI, the instance and the attachment id a later
/// `DetachNetworkInterface` names (it names no ENI).
fn attached(r: &Obj) -> Option<EniEventKind> {
    let p = r.get("requestParameters")?.as_object()?;
    Some(EniEventKind::Attach {
        eni: str_of(p, "networkInterfaceId")?.to_string(),
        instance: str_of(p, "instanceId").map(str::to_string),
        attachment: r
            .get("responseElements")
            .and_then(|x| x.get("attachmentId"))
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

fn request_eni(r: &Obj) -> Option<String> {
    r.get("requestParameters")?
        .get("networkInterfaceId")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The items of a CloudTrail set (`{"items": [...]}` or `{"item": [...]}`; `{}` when empty).
fn set_items<'a>(o: &'a Obj, key: &str) -> impl Iterator<Item = &'a Obj> {
    o.get(key)
        .and_then(Value::as_object)
        .and_then(|s| s.get("items").or_else(|| s.get("item")))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

fn str_of<'a>(o: &'a Obj, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn tags(o: &Obj, key: &str) -> Vec<(String, String)> {
    set_items(o, key)
        .filter_map(|t| {
            Some((
                str_of(t, "key")?.to_string(),
                str_of(t, "value").unwrap_or("").to_string(),
            ))
        })
        .collect()
}

fn tagged(r: &Obj) -> Option<EniEventKind> {
    let p = r.get("requestParameters")?.as_object()?;
    let ids: Vec<String> = set_items(p, "resourcesSet")
        .filter_map(|x| str_of(x, "resourceId"))
        .filter(|id| id.starts_with("eni-"))
        .map(str::to_string)
        .collect();
    (!ids.is_empty()).then(|| EniEventKind::Tags(ids, tags(p, "tagSet")))
}

fn created(doc: &mut Doc, r: &Obj, what: &str) -> Option<EniEventKind> {
    let n = r
        .get("responseElements")?
        .get("networkInterface")?
        .as_object()?;
    let mut eni = Eni {
        id: str_of(n, "networkInterfaceId")?.to_string(),
        vpc_id: str_of(n, "vpcId").map(str::to_string),
        subnet_id: str_of(n, "subnetId").map(str::to_string),
        description: str_of(n, "description").unwrap_or("").to_string(),
        interface_type: str_of(n, "interfaceType")
            .unwrap_or("interface")
            .to_string(),
        requester_managed: n
            .get("requesterManaged")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        requester_id: str_of(n, "requesterId").map(str::to_string),
        tags: tags(n, "tagSet"),
        ..Eni::default()
    };
    let owner = format!("{what} {}", eni.id);
    let mut addrs = Vec::new();
    if let Some(ip) = doc.ip(n, "privateIpAddress", &owner, "privateIpAddress") {
        addrs.push(ip);
    }
    for p in set_items(n, "privateIpAddressesSet") {
        if let Some(ip) = doc.ip(p, "privateIpAddress", &owner, "privateIpAddressesSet") {
            addrs.push(ip);
        }
    }
    for p in set_items(n, "ipv6AddressesSet") {
        if let Some(ip) = doc.ip(p, "ipv6Address", &owner, "ipv6AddressesSet") {
            addrs.push(ip);
        }
    }
    for ip in addrs {
        if !eni.addresses.contains(&ip) {
            eni.addresses.push(ip);
        }
    }
    for g in set_items(n, "groupSet") {
        if let Some(id) = str_of(g, "groupId") {
            eni.security_group_ids.push(id.to_string());
        }
        if let Some(name) = str_of(g, "groupName") {
            eni.security_group_names.push(name.to_string());
        }
    }
    let who = r.get("userIdentity").and_then(Value::as_object);
    // The role behind an assumed-role session (a SageMaker execution role or a
    // service-linked role), else the caller itself.
    let created_by = who.and_then(|u| {
        u.get("sessionContext")
            .and_then(|s| s.get("sessionIssuer"))
            .and_then(|s| s.get("arn"))
            .and_then(Value::as_str)
            .or_else(|| str_of(u, "arn"))
            .map(str::to_string)
    });
    let invoked_by = who.and_then(|u| str_of(u, "invokedBy")).map(str::to_string);
    // A person: an IAM user, the root user, or someone signed in through IAM Identity
    // Center (its roles are `AWSReservedSSO_…`). SageMaker acts through the execution
    // role or a service-linked role.
    eni.created_by_person = who
        .and_then(|u| str_of(u, "type"))
        .is_some_and(|t| matches!(t, "IAMUser" | "Root"))
        || created_by
            .as_deref()
            .is_some_and(|a| a.contains("/AWSReservedSSO_"));
    Some(EniEventKind::Create {
        eni: Box::new(eni),
        created_by,
        invoked_by,
    })
}

/// Builds every ENI's lifetimes from the events, in time order: a create opens one, a
/// delete closes the ENI's open one, tags change the open one. ENI ids are never reused,
/// but an address is: each lifetime keeps the addresses it had.
pub(super) fn lifetimes(inv: &mut Inventory) {
    let mut events = std::mem::take(&mut inv.eni_events);
    if events.is_empty() {
        return;
    }
    // At the same second a delete comes last: a lifetime never closes before it opens.
    events.sort_by_key(|e| (e.time, matches!(e.kind, EniEventKind::Delete(_))));
    let mut open: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out = std::mem::take(&mut inv.lifetimes);
    for e in events {
        match e.kind {
            EniEventKind::Create {
                mut eni,
                created_by,
                invoked_by,
            } => {
                // VpcConfig correlation picks the workload running when the ENI came.
                eni.attach_time = Some(e.time);
                open.insert(eni.id.clone(), out.len());
                out.push(EniLifetime {
                    eni: *eni,
                    created: Some(e.time),
                    deleted: None,
                    created_by,
                    invoked_by,
                    source: e.file,
                    from: LifetimeSource::CloudTrail,
                });
            }
            EniEventKind::Delete(id) => match open.remove(&id) {
                Some(i) => out[i].deleted = Some(e.time),
                None => inv.trail.deletes_without_create += 1,
            },
            EniEventKind::Attach {
                eni,
                instance,
                attachment,
            } => {
                if let Some(&i) = open.get(&eni) {
                    let e = &mut out[i].eni;
                    e.instance_id = instance;
                    e.attachment_id = attachment;
                }
            }
            EniEventKind::Detach(attachment) => {
                let held = out.iter_mut().find(|l| {
                    l.deleted.is_none() && l.eni.attachment_id.as_deref() == Some(&attachment)
                });
                if let Some(l) = held {
                    l.eni.instance_id = None;
                    l.eni.attachment_id = None;
                }
            }
            EniEventKind::Tags(ids, tags) => {
                for id in ids {
                    if let Some(&i) = open.get(&id) {
                        let t = &mut out[i].eni.tags;
                        for (k, v) in &tags {
                            t.retain(|(x, _)| x != k);
                            t.push((k.clone(), v.clone()));
                        }
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| a.eni.id.cmp(&b.eni.id).then(a.created.cmp(&b.created)));
    inv.lifetimes = out;
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;

    use crate::inventory::Inventory;
    use crate::inventory::load::{add_document, finish};

    /// The AWS documentation's `CreateNetworkInterface` record
    /// (`tests/data/cloudtrail/`, whose README cites it), made by a SageMaker execution
    /// role for an ENI of its own.
    pub(crate) fn create(id: &str, ip: &str, time: &str, role: &str) -> serde_json::Value {
        let mut r: serde_json::Value = serde_json::from_str(include_str!(
            "../../../tests/data/cloudtrail/create-network-interface.json"
        ))
        .unwrap();
        let u = &mut r["userIdentity"];
        u["arn"] = json!(format!(
            "arn:aws:sts::111122223333:assumed-role/{role}/SageMaker"
        ));
        u["sessionContext"]["sessionIssuer"]["arn"] =
            json!(format!("arn:aws:iam::111122223333:role/{role}"));
        u["invokedBy"] = json!("sagemaker.amazonaws.com");
        r["eventTime"] = json!(time);
        let n = &mut r["responseElements"]["networkInterface"];
        n["networkInterfaceId"] = json!(id);
        n["privateIpAddress"] = json!(ip);
        n["privateIpAddressesSet"]["item"][0]["privateIpAddress"] = json!(ip);
        n["groupSet"]["items"][0]["groupId"] = json!("sg-train");
        n["description"] = json!("");
        r
    }

    pub(crate) fn delete(id: &str, time: &str) -> serde_json::Value {
        json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "AWSService", "invokedBy": "sagemaker.amazonaws.com"},
            "eventTime": time,
            "eventSource": "ec2.amazonaws.com",
            "eventName": "DeleteNetworkInterface",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "sagemaker.amazonaws.com",
            "requestParameters": {"networkInterfaceId": id},
            "responseElements": {"requestId": "a1b2", "_return": true},
            "eventType": "AwsApiCall",
            "recipientAccountId": "111122223333"
        })
    }

    #[test]
    fn lifetimes_from_creates_tags_and_deletes() {
        let mut dry = create("eni-dry", "10.0.1.9", "2026-11-30T09:59:00Z", "r");
        dry["errorCode"] = json!("Client.DryRunOperation");
        dry["errorMessage"] = json!("Request would have succeeded, but DryRun flag is set.");
        let tags = json!({
            "eventTime": "2026-11-30T10:00:30Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "CreateTags",
            "requestParameters": {
                "resourcesSet": {"items": [{"resourceId": "eni-a"}, {"resourceId": "i-0abc"}]},
                "tagSet": {"items": [{"key": "team", "value": "ml"}]}
            }
        });
        let doc = json!({"Records": [
            delete("eni-a", "2026-11-30T11:00:00Z"),
            create("eni-a", "10.0.1.5", "2026-11-30T10:00:00Z", "SageMakerExecution"),
            tags,
            dry,
            create("eni-b", "10.0.1.5", "2026-11-30T12:00:00Z", "SageMakerExecution"),
            delete("eni-gone", "2026-11-30T12:00:00Z"),
            {"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventTime": "2026-11-30T12:00:00Z"}
        ]});
        let mut inv = Inventory::default();
        add_document(&mut inv, "trail.json", doc);
        finish(&mut inv);
        assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
        assert_eq!(inv.trail.records, 7);
        assert_eq!(inv.trail.failed_calls, 1);
        assert_eq!(inv.trail.deletes_without_create, 1);
        let l: Vec<_> = inv
            .lifetimes
            .iter()
            .map(|l| (l.eni.id.as_str(), l.created, l.deleted))
            .collect();
        assert_eq!(
            l,
            vec![
                ("eni-a", Some(1_796_032_800), Some(1_796_036_400)),
                ("eni-b", Some(1_796_040_000), None)
            ]
        );
        let a = &inv.lifetimes[0];
        assert_eq!(a.eni.tags, vec![("team".to_string(), "ml".to_string())]);
        assert_eq!(a.eni.security_group_ids, vec!["sg-train".to_string()]);
        assert_eq!(
            a.eni.addresses,
            vec!["10.0.1.5".parse::<std::net::IpAddr>().unwrap()]
        );
        assert_eq!(
            a.created_by.as_deref(),
            Some("arn:aws:iam::111122223333:role/SageMakerExecution")
        );
        assert_eq!(a.invoked_by.as_deref(), Some("sagemaker.amazonaws.com"));
        assert_eq!(a.source, "trail.json");
        assert!(a.covers(1_796_032_800 - 30) && !a.covers(1_796_036_401));
    }

    /// Attaching and detaching say which instance held the ENI (the detach names only the
    /// attachment); neither opens nor closes a lifetime.
    #[test]
    fn attach_and_detach_follow_the_instance() {
        let call = |name: &str, time: &str, params: serde_json::Value, response| {
            json!({"eventTime": time, "eventSource": "ec2.amazonaws.com", "eventName": name,
                   "requestParameters": params, "responseElements": response})
        };
        let attach = call(
            "AttachNetworkInterface",
            "2026-11-30T10:01:00Z",
            json!({"networkInterfaceId": "eni-a", "instanceId": "i-0abc", "deviceIndex": 1}),
            json!({"attachmentId": "eni-attach-0a"}),
        );
        let detach = call(
            "DetachNetworkInterface",
            "2026-11-30T10:30:00Z",
            json!({"attachmentId": "eni-attach-0a", "force": false}),
            json!({"_return": true}),
        );
        let lifetime = |records: Vec<serde_json::Value>| {
            let mut inv = Inventory::default();
            add_document(&mut inv, "trail.json", json!({ "Records": records }));
            finish(&mut inv);
            assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
            assert_eq!(inv.lifetimes.len(), 1);
            inv.lifetimes.remove(0)
        };
        let created = create("eni-a", "10.0.1.5", "2026-11-30T10:00:00Z", "r");
        let held = lifetime(vec![created.clone(), attach.clone()]);
        assert_eq!(held.eni.instance_id.as_deref(), Some("i-0abc"));
        assert_eq!(held.eni.attachment_id.as_deref(), Some("eni-attach-0a"));
        assert_eq!((held.created, held.deleted), (Some(1_796_032_800), None));
        let free = lifetime(vec![detach, attach, created]);
        assert_eq!(free.eni.instance_id, None);
        assert_eq!(free.eni.attachment_id, None);
    }

    /// A distributed run's workers rebuild the inventory from its originals: a trail file
    /// is kept as its ENI events only, and gives the same lifetimes.
    #[test]
    fn workers_get_the_eni_events_only() {
        let mut other = delete("eni-x", "2026-11-30T10:00:00Z");
        other["eventSource"] = json!("s3.amazonaws.com");
        other["eventName"] = json!("GetObject");
        let doc = json!({"Records": [
            create("eni-a", "10.0.1.5", "2026-11-30T10:00:00Z", "SageMakerExecution"),
            other,
            delete("eni-a", "2026-11-30T11:00:00Z"),
        ]});
        let bytes = serde_json::to_vec(&doc).unwrap();
        let mut inv = Inventory::default();
        crate::inventory::load::add_file(&mut inv, "trail.json", &bytes).unwrap();
        finish(&mut inv);
        let kept = &inv.originals.files[0].1;
        assert!(kept.len() < bytes.len());
        let again = crate::inventory::load::rebuild(&inv.originals).unwrap();
        let span = |i: &Inventory| {
            i.lifetimes
                .iter()
                .map(|l| (l.eni.id.clone(), l.created, l.deleted, l.source.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(span(&again), span(&inv));
        assert_eq!(again.lifetimes.len(), 1);
    }
}
