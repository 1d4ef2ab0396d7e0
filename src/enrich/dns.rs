//! Names for remote addresses from Route 53 Resolver query logs (`--dns`), and which
//! interface endpoint of a VPC serves a name.
//!
//! The resolver caches answers and logs only the queries it did not answer from cache, so
//! a client's repeated lookups are missing: a record is named from the same client's
//! latest answer with its remote address (`dns_same_client`), else from any client's in the
//! same VPC (`dns_same_vpc`, less sure).

use std::net::IpAddr;
use std::sync::Arc;

use crate::decode::TimeWindow;
use crate::inventory::{EndpointType, Inventory};
use crate::source::dns::DnsAnswer;

/// A query may be logged a little after the connection it led to started.
const SKEW_SECS: i64 = 60;

/// One answered address, as the `dns_answers` table lists it.
#[derive(Debug)]
pub struct Answer {
    pub time: i64,
    pub client: IpAddr,
    pub name: Arc<str>,
    pub source: Arc<str>,
    pub line: u32,
}

/// Answers by VPC and answered address, each list in time order.
#[derive(Debug, Default)]
pub struct DnsIndex {
    by_vpc: foldhash::HashMap<Arc<str>, foldhash::HashMap<IpAddr, Vec<Answer>>>,
    answers: usize,
    /// Answers before this (the margin kept to name records at the window's start) name
    /// records but are not listed in `dns_answers`: they belong to an earlier scan.
    listed_from: Option<i64>,
    /// The sources and window it was read from: what a distributed run's workers read
    /// again to name their share of the records.
    origin: Option<(Vec<String>, TimeWindow)>,
}

impl DnsIndex {
    pub fn new(answers: Vec<DnsAnswer>) -> DnsIndex {
        let mut index = DnsIndex {
            answers: answers.len(),
            ..DnsIndex::default()
        };
        for a in answers {
            index
                .by_vpc
                .entry(a.vpc)
                .or_default()
                .entry(a.addr)
                .or_default()
                .push(Answer {
                    time: a.time,
                    client: a.client,
                    name: a.name,
                    source: a.source,
                    line: a.line,
                });
        }
        for by_addr in index.by_vpc.values_mut() {
            for list in by_addr.values_mut() {
                list.sort_by_key(|a| a.time);
            }
        }
        index
    }

    /// Records the `--dns` sources and window the answers came from.
    pub fn read_from(mut self, sources: Vec<String>, window: TimeWindow) -> Self {
        self.origin = Some((sources, window));
        self
    }

    /// The `--dns` sources and window, when known.
    pub fn origin(&self) -> Option<(&[String], TimeWindow)> {
        self.origin.as_ref().map(|(s, w)| (s.as_slice(), *w))
    }

    /// Lists only the answers from `since` on in [`Self::all`].
    pub fn listing_from(mut self, since: Option<i64>) -> Self {
        self.listed_from = since;
        self
    }

    /// Answers kept (each ~120 bytes in memory).
    pub fn len(&self) -> usize {
        self.answers
    }

    pub fn is_empty(&self) -> bool {
        self.answers == 0
    }

    /// Every answer as (VPC, answered address, answer), in no order.
    pub fn all(&self) -> impl Iterator<Item = (&str, IpAddr, &Answer)> {
        self.by_vpc
            .iter()
            .flat_map(|(vpc, by_addr)| {
                by_addr
                    .iter()
                    .flat_map(move |(addr, list)| list.iter().map(move |a| (&**vpc, *addr, a)))
            })
            .filter(|(_, _, a)| self.listed_from.is_none_or(|s| a.time >= s))
    }

    /// The name `local` (in `vpc`) asked for whose answer was `remote`, at or before
    /// `start`: the latest of the same client's, else the latest of any client's.
    pub(super) fn name(
        &self,
        vpc: &str,
        local: Option<IpAddr>,
        remote: IpAddr,
        start: i64,
    ) -> Option<(&str, &'static str)> {
        let list = self.by_vpc.get(vpc)?.get(&remote)?;
        let upto = list.partition_point(|a| a.time <= start + SKEW_SECS);
        let before = &list[..upto];
        if let Some(a) = before.iter().rev().find(|a| Some(a.client) == local) {
            return Some((&a.name, "dns_same_client"));
        }
        before.last().map(|a| (&*a.name, "dns_same_vpc"))
    }
}

/// Per VPC, its interface endpoints and the DNS name each serves: the service name's parts
/// after the region, reversed, under `<region>.amazonaws.com` (`sagemaker.api` serves
/// `api.sagemaker.us-east-1.amazonaws.com`, `sts` serves `sts.us-east-1.amazonaws.com`),
/// and any name under it (`<registry>.dkr.ecr.…`).
#[derive(Debug, Default)]
pub struct EndpointNames {
    by_vpc: foldhash::HashMap<String, Vec<(Arc<str>, String)>>,
}

impl EndpointNames {
    pub fn new(inv: &Inventory) -> EndpointNames {
        let mut by_vpc: foldhash::HashMap<String, Vec<(Arc<str>, String)>> = Default::default();
        for ep in &inv.vpc_endpoints {
            // Private DNS for on-premises clients only: the VPC's own are answered with
            // the service's public addresses by design (its gateway endpoint carries them).
            if ep.endpoint_type != EndpointType::Interface || ep.private_dns_inbound_only {
                continue;
            }
            let host = match super::index::split_service_name_dotted(&ep.service_name) {
                Some((region, service)) => {
                    let mut parts: Vec<&str> = service.split('.').collect();
                    parts.reverse();
                    format!("{}.{region}.amazonaws.com", parts.join("."))
                }
                // SageMaker's own UI services (`aws.sagemaker.<region>.notebook`, `.studio`,
                // …) answer under a private hosted zone `<service>.<region>.sagemaker.aws`
                // (domain.md §4): a notebook's presigned URL host is
                // `<name>.notebook.<region>.sagemaker.aws`.
                None => match ep
                    .service_name
                    .strip_prefix("aws.sagemaker.")
                    .and_then(|rest| rest.split_once('.'))
                {
                    Some((region, service)) if !service.contains('.') => {
                        format!("{service}.{region}.sagemaker.aws")
                    }
                    _ => continue,
                },
            };
            by_vpc
                .entry(ep.vpc_id.clone())
                .or_default()
                .push((Arc::from(ep.id.as_str()), host));
        }
        EndpointNames { by_vpc }
    }

    /// The interface endpoint of `vpc` that serves `name`.
    pub fn endpoint_for(&self, vpc: &str, name: &str) -> Option<&str> {
        self.by_vpc.get(vpc)?.iter().find_map(|(id, host)| {
            let under = name.len() > host.len()
                && name.ends_with(host.as_str())
                && name.as_bytes()[name.len() - host.len() - 1] == b'.';
            (name == host || under).then_some(&**id)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(client: &str, name: &str, addr: &str, time: i64) -> DnsAnswer {
        DnsAnswer {
            vpc: Arc::from("vpc-0a"),
            client: client.parse().unwrap(),
            name: Arc::from(name),
            addr: addr.parse().unwrap(),
            time,
            source: Arc::from("q.log"),
            line: 1,
        }
    }

    #[test]
    fn the_same_client_first_then_the_vpc_and_the_latest_wins() {
        let i = DnsIndex::new(vec![
            answer("10.0.0.1", "a.example.com", "52.0.0.1", 100),
            answer("10.0.0.1", "b.example.com", "52.0.0.1", 200),
            answer("10.0.0.2", "c.example.com", "52.0.0.1", 300),
        ]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let name = |local: &str, start| i.name("vpc-0a", Some(ip(local)), ip("52.0.0.1"), start);
        assert_eq!(
            name("10.0.0.1", 130),
            Some(("a.example.com", "dns_same_client"))
        );
        assert_eq!(
            name("10.0.0.1", 400),
            Some(("b.example.com", "dns_same_client"))
        );
        // A query logged within a minute after the record's start still names it.
        assert_eq!(
            name("10.0.0.1", 41),
            Some(("a.example.com", "dns_same_client"))
        );
        assert_eq!(name("10.0.0.1", 39), None);
        // The resolver's cache hid this client's query: another client's answer.
        assert_eq!(
            name("10.0.0.9", 400),
            Some(("c.example.com", "dns_same_vpc"))
        );
        assert_eq!(i.name("vpc-0b", None, ip("52.0.0.1"), 400), None);
    }

    #[test]
    fn interface_endpoints_name_the_hosts_their_private_dns_serves() {
        let endpoint = |id: &str, service: &str| crate::inventory::VpcEndpoint {
            id: id.into(),
            vpc_id: "vpc-0a".into(),
            service_name: service.into(),
            endpoint_type: EndpointType::Interface,
            eni_ids: Vec::new(),
            route_table_ids: Vec::new(),
            private_dns_enabled: Some(true),
            private_dns_inbound_only: false,
            ip_address_type: None,
            created: None,
        };
        let inv = Inventory {
            vpc_endpoints: vec![
                endpoint("vpce-api", "com.amazonaws.us-east-1.sagemaker.api"),
                endpoint("vpce-nb", "aws.sagemaker.us-east-1.notebook"),
                endpoint("vpce-studio", "aws.sagemaker.us-east-1.studio"),
            ],
            ..Inventory::default()
        };
        let names = EndpointNames::new(&inv);
        let of = |name: &str| names.endpoint_for("vpc-0a", name);
        assert_eq!(
            of("api.sagemaker.us-east-1.amazonaws.com"),
            Some("vpce-api")
        );
        assert_eq!(
            of("nb-analyst.notebook.us-east-1.sagemaker.aws"),
            Some("vpce-nb")
        );
        assert_eq!(
            of("d-abc123.studio.us-east-1.sagemaker.aws"),
            Some("vpce-studio")
        );
        assert_eq!(of("nb-analyst.notebook.us-west-2.sagemaker.aws"), None);
        assert_eq!(of("xnotebook.us-east-1.sagemaker.aws"), None);
        assert_eq!(
            names.endpoint_for("vpc-0b", "api.sagemaker.us-east-1.amazonaws.com"),
            None
        );
    }
}
