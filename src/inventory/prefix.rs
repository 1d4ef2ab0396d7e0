//! Longest-prefix matching over IPv4/IPv6 CIDRs, built once and queried per record.
//!
//! CIDR prefixes are either nested or disjoint, so the longest-match answer is a step
//! function over the address space. [`PrefixMap::build`] flattens the prefixes into that
//! step function (one sorted array of step starts per family) and a lookup is a single
//! binary search over plain integers, which keeps it cheap on millions of flow records.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net};

/// Marks a step that no prefix covers.
const GAP: u32 = u32::MAX;

/// Maps addresses to the value of their longest matching prefix.
#[derive(Debug, Clone)]
pub struct PrefixMap<T> {
    /// Everything inserted, in insertion order, so that `build` can be repeated.
    pending: Vec<Pending<T>>,
    /// The prefix that won for each distinct net, referenced by the step tables.
    winners: Vec<(IpNet, T)>,
    v4: Steps<u32>,
    v6: Steps<u128>,
    built: bool,
}

#[derive(Debug, Clone)]
struct Pending<T> {
    net: IpNet,
    value: T,
    priority: u8,
}

/// A step function: `starts[i]..starts[i + 1]` maps to `slots[i]` (an index into
/// `winners`, or [`GAP`]). Keys and slots are separate arrays so the binary search
/// touches only the keys.
#[derive(Debug, Clone)]
struct Steps<K> {
    starts: Vec<K>,
    slots: Vec<u32>,
}

impl<K> Default for Steps<K> {
    fn default() -> Self {
        Steps {
            starts: Vec::new(),
            slots: Vec::new(),
        }
    }
}

impl<K: Copy + Ord> Steps<K> {
    fn find(&self, key: K) -> Option<usize> {
        let i = self.starts.partition_point(|&s| s <= key);
        let slot = *self.slots.get(i.checked_sub(1)?)?;
        (slot != GAP).then_some(slot as usize)
    }
}

impl<T: Clone> Default for PrefixMap<T> {
    fn default() -> Self {
        PrefixMap {
            pending: Vec::new(),
            winners: Vec::new(),
            v4: Steps::default(),
            v6: Steps::default(),
            built: false,
        }
    }
}

impl<T: Clone> PrefixMap<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a prefix. Lookup returns the value of the longest prefix containing the
    /// address; among prefixes of equal length, the higher `priority` wins, then the
    /// first inserted.
    pub fn insert(&mut self, net: IpNet, value: T, priority: u8) {
        self.pending.push(Pending {
            net: normalise(net),
            value,
            priority,
        });
        // The step tables no longer describe everything inserted; answering from them
        // would silently ignore the new prefix.
        self.built = false;
    }

    /// Finalises the structure; must be called after the last insert (lookups before it
    /// return None).
    pub fn build(&mut self) {
        let mut order: Vec<usize> = (0..self.pending.len()).collect();
        // Outer prefixes before the prefixes they contain; for the same net the winner
        // comes first so that deduplication keeps it.
        order.sort_by(|&a, &b| {
            let (pa, pb) = (&self.pending[a], &self.pending[b]);
            family_key(pa.net)
                .cmp(&family_key(pb.net))
                .then(pa.net.prefix_len().cmp(&pb.net.prefix_len()))
                .then(pb.priority.cmp(&pa.priority))
                .then(a.cmp(&b))
        });
        order.dedup_by(|later, kept| self.pending[*later].net == self.pending[*kept].net);

        self.winners.clear();
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for i in order {
            let p = &self.pending[i];
            // Far fewer than u32::MAX prefixes fit in memory.
            let slot = self.winners.len() as u32;
            match p.net {
                IpNet::V4(n) => v4.push((
                    u128::from(u32::from(n.network())),
                    u128::from(u32::from(n.broadcast())),
                    slot,
                )),
                IpNet::V6(n) => v6.push((u128::from(n.network()), u128::from(n.broadcast()), slot)),
            }
            self.winners.push((p.net, p.value.clone()));
        }

        let steps = sweep(&v4, u128::from(u32::MAX));
        self.v4 = Steps {
            // Every v4 step start is at most u32::MAX by construction.
            starts: steps.iter().map(|&(s, _)| s as u32).collect(),
            slots: steps.iter().map(|&(_, v)| v).collect(),
        };
        let steps = sweep(&v6, u128::MAX);
        self.v6 = Steps {
            starts: steps.iter().map(|&(s, _)| s).collect(),
            slots: steps.iter().map(|&(_, v)| v).collect(),
        };
        self.built = true;
    }

    pub fn lookup(&self, ip: IpAddr) -> Option<&T> {
        self.find(ip).map(|i| &self.winners[i].1)
    }

    /// Like lookup but also returns the matched prefix.
    pub fn lookup_prefix(&self, ip: IpAddr) -> Option<(IpNet, &T)> {
        self.find(ip).map(|i| {
            let (net, value) = &self.winners[i];
            (*net, value)
        })
    }

    /// The number of prefixes inserted (a net inserted twice counts twice).
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    fn find(&self, ip: IpAddr) -> Option<usize> {
        if !self.built {
            return None;
        }
        // Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; they are IPv4 traffic.
        match ip.to_canonical() {
            IpAddr::V4(a) => self.v4.find(u32::from(a)),
            IpAddr::V6(a) => self.v6.find(u128::from(a)),
        }
    }
}

/// Host bits are cleared, and IPv4-mapped IPv6 nets become IPv4 nets, so that they match
/// the canonicalised addresses `find` looks up.
fn normalise(net: IpNet) -> IpNet {
    if let IpNet::V6(n) = net
        && n.prefix_len() >= 96
        && let Some(v4) = n.network().to_ipv4_mapped()
        && let Ok(mapped) = Ipv4Net::new(v4, n.prefix_len() - 96)
    {
        return IpNet::V4(mapped.trunc());
    }
    net.trunc()
}

/// Orders IPv4 before IPv6, then by network address.
fn family_key(net: IpNet) -> (u8, u128) {
    match net {
        IpNet::V4(n) => (0, u128::from(u32::from(n.network()))),
        IpNet::V6(n) => (1, u128::from(n.network())),
    }
}

/// Turns nested-or-disjoint intervals `(first, last, slot)`, sorted by `first` with outer
/// intervals first, into step starts. `max` is the family's last address.
fn sweep(intervals: &[(u128, u128, u32)], max: u128) -> Vec<(u128, u32)> {
    let mut out: Vec<(u128, u32)> = Vec::with_capacity(intervals.len() * 2 + 1);
    // The intervals enclosing the current position, innermost last: (last, slot).
    let mut open: Vec<(u128, u32)> = Vec::new();
    for &(first, last, slot) in intervals {
        while let Some(&(end, _)) = open.last() {
            if end >= first {
                break;
            }
            open.pop();
            // `end < first <= max`, so `end + 1` cannot overflow.
            push_step(&mut out, end + 1, open.last().map_or(GAP, |o| o.1));
        }
        push_step(&mut out, first, slot);
        open.push((last, slot));
    }
    while let Some((end, _)) = open.pop() {
        if end < max {
            push_step(&mut out, end + 1, open.last().map_or(GAP, |o| o.1));
        }
    }
    out
}

fn push_step(out: &mut Vec<(u128, u32)>, start: u128, slot: u32) {
    if let Some(last) = out.last_mut()
        && last.0 == start
    {
        // A later step at the same address supersedes the earlier one (an inner prefix
        // starting where its parent starts, or a parent resuming where a child starts).
        last.1 = slot;
        let n = out.len();
        if n >= 2 && out[n - 2].1 == slot {
            out.pop();
        }
        return;
    }
    if out.last().is_some_and(|last| last.1 == slot) {
        return;
    }
    if out.is_empty() && slot == GAP {
        return;
    }
    out.push((start, slot));
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse::<Ipv4Addr>().expect("test address"))
    }

    fn net(s: &str) -> IpNet {
        s.parse().expect("test net")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn built(entries: &[(&str, &'static str, u8)]) -> PrefixMap<&'static str> {
        let mut m = PrefixMap::new();
        for &(n, v, p) in entries {
            m.insert(net(n), v, p);
        }
        m.build();
        m
    }

    #[test]
    fn nested_prefixes_pick_the_longest() {
        let m = built(&[
            ("10.0.0.0/8", "outer", 0),
            ("10.1.0.0/16", "middle", 0),
            ("10.1.2.0/24", "inner", 0),
            ("10.200.0.0/16", "sibling", 0),
        ]);
        assert_eq!(m.lookup(v4("10.1.2.3")), Some(&"inner"));
        assert_eq!(m.lookup(v4("10.1.3.3")), Some(&"middle"));
        assert_eq!(m.lookup(v4("10.2.0.0")), Some(&"outer"));
        assert_eq!(m.lookup(v4("10.200.9.9")), Some(&"sibling"));
        assert_eq!(m.lookup(v4("10.201.0.0")), Some(&"outer"));
        assert_eq!(m.lookup(v4("11.0.0.0")), None);
        assert_eq!(m.lookup(v4("9.255.255.255")), None);
        assert_eq!(
            m.lookup_prefix(v4("10.1.2.3")),
            Some((net("10.1.2.0/24"), &"inner"))
        );
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn insertion_order_does_not_matter() {
        let m = built(&[
            ("10.1.2.0/24", "inner", 0),
            ("10.200.0.0/16", "sibling", 0),
            ("10.0.0.0/8", "outer", 0),
            ("10.1.0.0/16", "middle", 0),
        ]);
        assert_eq!(m.lookup(v4("10.1.2.3")), Some(&"inner"));
        assert_eq!(m.lookup(v4("10.1.3.3")), Some(&"middle"));
        assert_eq!(m.lookup(v4("10.2.0.0")), Some(&"outer"));
    }

    #[test]
    fn equal_length_prefixes_go_by_priority_then_first_inserted() {
        let m = built(&[
            ("3.5.140.0/22", "AMAZON", 0),
            ("3.5.140.0/22", "EC2", 1),
            ("3.5.140.0/22", "S3", 2),
            ("3.5.140.0/22", "OTHER", 2),
            ("3.5.0.0/16", "A", 1),
            ("3.5.0.0/16", "B", 1),
        ]);
        assert_eq!(m.lookup(v4("3.5.140.1")), Some(&"S3"));
        assert_eq!(m.lookup(v4("3.5.1.1")), Some(&"A"));
        assert_eq!(m.len(), 6);
    }

    #[test]
    fn host_bits_are_ignored() {
        let m = built(&[("192.168.1.77/24", "lan", 0)]);
        assert_eq!(
            m.lookup_prefix(v4("192.168.1.1")),
            Some((net("192.168.1.0/24"), &"lan"))
        );
    }

    #[test]
    fn ipv6_and_mapped_ipv4() {
        let m = built(&[
            ("2600:1f18::/32", "aws", 0),
            ("2600:1f18:4a1b:c200::/56", "vpc", 0),
            ("52.216.0.0/15", "s3", 0),
        ]);
        assert_eq!(m.lookup(ip("2600:1f18:4a1b:c2ff::1")), Some(&"vpc"));
        assert_eq!(m.lookup(ip("2600:1f18:4a1b:c300::1")), Some(&"aws"));
        assert_eq!(m.lookup(ip("2600:1f19::")), None);
        assert_eq!(m.lookup(ip("::ffff:52.217.44.196")), Some(&"s3"));
        // A v4 net must not answer for the v6 address with the same integer value.
        assert_eq!(m.lookup(ip("::3414:0001")), None);
    }

    #[test]
    fn mapped_ipv6_nets_match_ipv4_addresses() {
        let m = built(&[("::ffff:10.0.0.0/104", "ten", 0)]);
        assert_eq!(m.lookup(v4("10.9.9.9")), Some(&"ten"));
        assert_eq!(m.lookup(ip("::ffff:10.9.9.9")), Some(&"ten"));
    }

    #[test]
    fn prefix_boundaries() {
        let m = built(&[
            ("10.20.0.0/16", "vpc", 0),
            ("10.20.1.0/24", "subnet", 0),
            ("10.20.1.128/32", "host", 0),
        ]);
        assert_eq!(m.lookup(v4("10.19.255.255")), None);
        assert_eq!(m.lookup(v4("10.20.0.0")), Some(&"vpc"));
        assert_eq!(m.lookup(v4("10.20.0.255")), Some(&"vpc"));
        assert_eq!(m.lookup(v4("10.20.1.0")), Some(&"subnet"));
        assert_eq!(m.lookup(v4("10.20.1.127")), Some(&"subnet"));
        assert_eq!(m.lookup(v4("10.20.1.128")), Some(&"host"));
        assert_eq!(m.lookup(v4("10.20.1.129")), Some(&"subnet"));
        assert_eq!(m.lookup(v4("10.20.1.255")), Some(&"subnet"));
        assert_eq!(m.lookup(v4("10.20.2.0")), Some(&"vpc"));
        assert_eq!(m.lookup(v4("10.20.255.255")), Some(&"vpc"));
        assert_eq!(m.lookup(v4("10.21.0.0")), None);
    }

    #[test]
    fn prefixes_sharing_a_first_or_last_address() {
        // Child and parent start together, and another child ends where the parent ends.
        let m = built(&[
            ("10.0.0.0/8", "p", 0),
            ("10.0.0.0/16", "first", 0),
            ("10.255.0.0/16", "last", 0),
        ]);
        assert_eq!(m.lookup(v4("10.0.0.0")), Some(&"first"));
        assert_eq!(m.lookup(v4("10.0.255.255")), Some(&"first"));
        assert_eq!(m.lookup(v4("10.1.0.0")), Some(&"p"));
        assert_eq!(m.lookup(v4("10.254.255.255")), Some(&"p"));
        assert_eq!(m.lookup(v4("10.255.255.255")), Some(&"last"));
        assert_eq!(m.lookup(v4("11.0.0.0")), None);
    }

    #[test]
    fn default_routes_and_the_ends_of_the_address_space() {
        let m = built(&[
            ("0.0.0.0/0", "v4-any", 0),
            ("255.255.255.255/32", "v4-top", 0),
            ("::/0", "v6-any", 0),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "v6-top", 0),
        ]);
        assert_eq!(m.lookup(v4("0.0.0.0")), Some(&"v4-any"));
        assert_eq!(m.lookup(v4("8.8.8.8")), Some(&"v4-any"));
        assert_eq!(m.lookup(v4("255.255.255.254")), Some(&"v4-any"));
        assert_eq!(m.lookup(v4("255.255.255.255")), Some(&"v4-top"));
        assert_eq!(m.lookup(ip("::")), Some(&"v6-any"));
        assert_eq!(m.lookup(ip("2001:db8::1")), Some(&"v6-any"));
        assert_eq!(
            m.lookup(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
            Some(&"v6-top")
        );
    }

    #[test]
    fn empty_and_unbuilt_maps_find_nothing() {
        let mut m: PrefixMap<u8> = PrefixMap::default();
        assert!(m.is_empty());
        m.build();
        assert_eq!(m.lookup(v4("10.0.0.1")), None);
        assert_eq!(m.lookup(ip("::1")), None);

        m.insert(net("10.0.0.0/8"), 1, 0);
        assert_eq!(m.lookup(v4("10.0.0.1")), None, "not built yet");
        m.build();
        assert_eq!(m.lookup(v4("10.0.0.1")), Some(&1));
        m.insert(net("10.0.0.0/24"), 2, 0);
        assert_eq!(m.lookup(v4("10.0.0.1")), None, "stale after insert");
        m.build();
        assert_eq!(m.lookup(v4("10.0.0.1")), Some(&2));
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn matches_a_brute_force_search() {
        // Deterministic pseudo-random nets in a small space, checked against a scan.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut m = PrefixMap::new();
        let mut all = Vec::new();
        for i in 0..300u32 {
            let r = next();
            let len = 16 + (r % 17) as u8;
            let addr = Ipv4Addr::from(0x0a00_0000 | ((r >> 8) as u32 & 0x0000_ffff));
            let n = IpNet::V4(Ipv4Net::new(addr, len).expect("len <= 32")).trunc();
            let prio = (r >> 40) as u8 % 3;
            m.insert(n, i, prio);
            all.push((n, i, prio));
        }
        m.build();
        for a in 0x0a00_0000u32..=0x0a00_ffff {
            let addr = IpAddr::V4(Ipv4Addr::from(a));
            let expected = all
                .iter()
                .filter(|(n, _, _)| n.contains(&addr))
                .max_by(|x, y| {
                    x.0.prefix_len()
                        .cmp(&y.0.prefix_len())
                        .then(x.2.cmp(&y.2))
                        .then(y.1.cmp(&x.1))
                })
                .map(|x| x.1);
            assert_eq!(m.lookup(addr).copied(), expected, "{addr}");
        }
    }
}
