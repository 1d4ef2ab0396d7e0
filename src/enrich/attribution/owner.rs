//! What an ENI or a record is attributed to: a fixed owner, or the workloads of a
//! VpcConfig, of which each record gets the one running at its time.

use std::borrow::Cow;

use crate::inventory::Window;

/// How far an ENI's `AttachTime` may read from another service's time (a workload's
/// attach window, a flow record's start) and still be compared as the same instant: the
/// times come from different services' clocks.
pub const CLOCK_SLACK: i64 = 60;

/// A SageMaker resource an ENI belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub rtype: &'static str,
    pub name: Option<String>,
    pub user_profile: Option<String>,
}

/// What a record (or an ENI) is attributed to. `rtype` is NULL only when several
/// workloads of different types fit; `candidates` lists them when more than one does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceRef<'a> {
    pub rtype: Option<&'static str>,
    pub name: Option<&'a str>,
    pub user_profile: Option<&'a str>,
    /// `type:name` of every fitting workload, comma-separated, when the name is not unique.
    pub candidates: Option<Cow<'a, str>>,
    /// The inventory file whose VpcConfig names the workload, when one workload fits.
    pub document: Option<&'a str>,
}

/// A SageMaker workload that runs in a VpcConfig, and when it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub rtype: &'static str,
    pub name: String,
    /// `None`: nothing bounds when it ran, so it matches no record.
    pub window: Option<Window>,
    /// When its ENIs can have been attached, to choose between workloads that overlap.
    pub attach_window: Option<Window>,
    /// How long after its window ends its own ENIs may still carry traffic, seconds (a
    /// job's are deleted only after it stops and uploads its output).
    pub release: i64,
    /// Each VpcConfig it runs in: sorted security-group ids, subnets.
    pub(super) configs: Vec<(Vec<String>, Vec<String>)>,
    /// The inventory file of its (first) VpcConfig.
    pub(super) document: Option<String>,
}

impl Workload {
    fn label(&self) -> String {
        format!("{}:{}", self.rtype, self.name)
    }

    pub(super) fn fits(&self, t0: i64, t1: i64) -> bool {
        self.window.is_some_and(|w| w.overlaps(t0, t1))
    }

    /// Whether one of its own ENIs (attached in its attach window) can carry a record of
    /// `t0..=t1`: while it runs, and for its release time after.
    fn holds(&self, t0: i64, t1: i64) -> bool {
        self.window.is_some_and(|w| {
            t1 >= w.from && w.to.is_none_or(|e| t0 <= e.saturating_add(self.release))
        })
    }

    fn attached_in(&self, t: i64) -> bool {
        self.attach_window.is_some_and(|w| w.contains(t))
    }

    /// Whether an ENI attached at `t` can be this workload's: not when it was attached
    /// before the workload (or a job whose warm pool it reused) was created, nor after
    /// its ENIs were all attached (a job's start, an endpoint's last provisioning). Such
    /// an ENI in the same VpcConfig is another workload's, perhaps one the inventory lacks
    /// (an endpoint deleted since, whose ENIs outlive it).
    fn can_own(&self, t: i64) -> bool {
        self.attach_window.is_none_or(|w| {
            t >= w.from.saturating_sub(CLOCK_SLACK)
                && w.to.is_none_or(|to| t <= to.saturating_add(CLOCK_SLACK))
        })
    }

    pub(super) fn runs_in(&self, groups: &[String], subnet: &str) -> bool {
        self.configs
            .iter()
            .any(|(g, s)| g.as_slice() == groups && s.iter().any(|x| x == subnet))
    }

    pub(super) fn in_subnet(&self, subnet: &str) -> bool {
        self.configs
            .iter()
            .any(|(_, s)| s.iter().any(|x| x == subnet))
    }
}

/// The workloads whose VpcConfig an ENI (or a record's subnet) matches. Each record is
/// attributed to the one running at its time; when several are, the one whose ENIs can
/// have been attached at the ENI's `AttachTime`; when still several, to none of them by
/// name: `sagemaker_resource` is NULL, the type is their common type and
/// `sagemaker_candidates` lists them. A record no workload's window covers is SageMaker's
/// but of no known workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcMatch {
    /// Sorted by start, then name.
    pub workloads: Vec<Workload>,
    /// The ENI's `Attachment.AttachTime`.
    pub attach_time: Option<i64>,
    /// The type when no workload fits the record's time: their common type, if any.
    pub fallback_type: Option<&'static str>,
}

/// How many workloads fit a record, without allocating for the usual one.
enum Fit<'w> {
    None,
    One(&'w Workload),
    Several(Vec<&'w Workload>),
}

impl VpcMatch {
    pub(super) fn new(
        mut workloads: Vec<Workload>,
        attach_time: Option<i64>,
        extra_type: Option<&'static str>,
    ) -> Self {
        workloads.sort_by(|a, b| {
            let from = |w: &Workload| w.window.map(|x| x.from);
            from(a).cmp(&from(b)).then_with(|| a.name.cmp(&b.name))
        });
        let fallback_type = common_type(workloads.iter().map(|w| w.rtype).chain(extra_type));
        VpcMatch {
            workloads,
            attach_time,
            fallback_type,
        }
    }

    fn fit(&self, start: Option<i64>, end: Option<i64>) -> Fit<'_> {
        let (Some(t0), Some(t1)) = (start.or(end), end.or(start)) else {
            return Fit::None;
        };
        // A workload the ENI's attach time says it may be of still holds it a while after
        // it ends: its records then are not another's by elimination.
        let attach_time = self.attach_time;
        let mut fitting = self.workloads.iter().filter(|w| {
            w.fits(t0, t1) || attach_time.is_some_and(|a| w.attached_in(a) && w.holds(t0, t1))
        });
        let Some(first) = fitting.next() else {
            return Fit::None;
        };
        let Some(second) = fitting.next() else {
            return match self.attach_time {
                Some(t) if !first.can_own(t) => Fit::Several(vec![first]),
                _ => Fit::One(first),
            };
        };
        let mut all = vec![first, second];
        all.extend(fitting);
        if let Some(t) = self.attach_time {
            let attached: Vec<&Workload> =
                all.iter().copied().filter(|w| w.attached_in(t)).collect();
            match attached.len() {
                1 => return Fit::One(attached[0]),
                0 => {}
                _ => all = attached,
            }
        }
        Fit::Several(all)
    }

    /// The workload of a record spanning `start..=end`.
    pub fn at(&self, start: Option<i64>, end: Option<i64>) -> ResourceRef<'_> {
        match self.fit(start, end) {
            Fit::None => ResourceRef {
                rtype: self.fallback_type,
                ..ResourceRef::default()
            },
            Fit::One(w) => named(w),
            Fit::Several(ws) => ambiguous(&ws),
        }
    }

    /// Like [`VpcMatch::at`], but `None` when no workload fits the record's time: for
    /// records whose ENI is not in the inventory, only a workload running then says the
    /// record is SageMaker's at all.
    pub fn fitting(&self, start: Option<i64>, end: Option<i64>) -> Option<ResourceRef<'_>> {
        match self.fit(start, end) {
            Fit::None => None,
            Fit::One(w) => Some(named(w)),
            Fit::Several(ws) => Some(ambiguous(&ws)),
        }
    }

    /// Regardless of time (the inventory's view of the ENI): the workload when only one
    /// matches (and the ENI can be its own), else their common type and all of them as
    /// candidates.
    pub fn any_time(&self) -> ResourceRef<'_> {
        match self.workloads.as_slice() {
            [w] if self.attach_time.is_none_or(|t| w.can_own(t)) => named(w),
            [] => ResourceRef {
                rtype: self.fallback_type,
                ..ResourceRef::default()
            },
            ws => ambiguous(&ws.iter().collect::<Vec<_>>()),
        }
    }
}

pub(super) fn named(w: &Workload) -> ResourceRef<'_> {
    ResourceRef {
        rtype: Some(w.rtype),
        name: Some(&w.name),
        document: w.document.as_deref(),
        ..ResourceRef::default()
    }
}

pub(super) fn ambiguous<'w>(ws: &[&'w Workload]) -> ResourceRef<'w> {
    let mut labels: Vec<String> = ws.iter().map(|w| w.label()).collect();
    labels.sort_unstable();
    labels.dedup();
    ResourceRef {
        rtype: common_type(ws.iter().map(|w| w.rtype)),
        candidates: Some(Cow::Owned(labels.join(","))),
        ..ResourceRef::default()
    }
}

fn common_type(mut types: impl Iterator<Item = &'static str>) -> Option<&'static str> {
    let first = types.next()?;
    types.all(|t| t == first).then_some(first)
}

/// The static part of an ENI's attribution.
#[derive(Debug, Clone)]
pub enum Owner {
    SageMaker(Resource),
    /// Matched one or more workloads by VpcConfig; the record time picks one.
    VpcConfig(VpcMatch),
    /// Not SageMaker: `vpc_endpoint`, `nat_gateway`, `efs`, `lambda`, `other_service`,
    /// `ec2`, `aws_managed`, `unknown`.
    Kind(&'static str),
}

/// The `eni_owner_kind` of a SageMaker workload's ENI, and of a NAT gateway's: the two
/// kinds the enrichment's decisions turn on (the others are only named).
pub const SAGEMAKER: &str = "sagemaker";
pub const NAT_GATEWAY: &str = "nat_gateway";

impl Owner {
    pub fn kind(&self) -> &'static str {
        match self {
            Owner::SageMaker(_) | Owner::VpcConfig(_) => SAGEMAKER,
            Owner::Kind(k) => k,
        }
    }

    /// The resource of a record spanning `start..=end`; this runs once per record.
    pub fn resource_ref(&self, start: Option<i64>, end: Option<i64>) -> Option<ResourceRef<'_>> {
        match self {
            Owner::SageMaker(r) => Some(fixed(r)),
            Owner::VpcConfig(m) => Some(m.at(start, end)),
            Owner::Kind(_) => None,
        }
    }

    /// Whether a SageMaker workload held the ENI during `start..=end`: one it is attributed
    /// to by VpcConfig must have been running then. For a NAT gateway's legs, whose
    /// workload address may have been another ENI's before.
    pub fn present_at(&self, start: Option<i64>, end: Option<i64>) -> bool {
        match self {
            Owner::SageMaker(_) => true,
            Owner::VpcConfig(m) => m.fitting(start, end).is_some(),
            Owner::Kind(_) => false,
        }
    }

    /// The resource regardless of time, for inventory views (`enis`, `inventory show`).
    pub fn resource_any_time(&self) -> Option<ResourceRef<'_>> {
        match self {
            Owner::SageMaker(r) => Some(fixed(r)),
            Owner::VpcConfig(m) => Some(m.any_time()),
            Owner::Kind(_) => None,
        }
    }

    /// A description for `inventory show`.
    pub fn describe(&self) -> String {
        match self {
            Owner::SageMaker(r) => {
                let mut s = format!("sagemaker {} {}", r.rtype, r.name.as_deref().unwrap_or("?"));
                if let Some(p) = &r.user_profile {
                    s += &format!(" (user profile {p})");
                }
                s
            }
            Owner::VpcConfig(m) if m.workloads.is_empty() => format!(
                "sagemaker by VpcConfig: {} of no known workload (a model or endpoint config no endpoint uses)",
                m.fallback_type.unwrap_or("?")
            ),
            Owner::VpcConfig(m) => format!(
                "sagemaker by VpcConfig: {}",
                m.workloads
                    .iter()
                    .map(|w| {
                        let mut s = format!("{} {} ({})", w.rtype, w.name, window_text(w.window));
                        if let Some(t) = m.attach_time.filter(|&t| !w.can_own(t)) {
                            s += if w.attach_window.is_some_and(|a| t < a.from) {
                                ", created after the ENI was attached: not its ENI"
                            } else {
                                ", its ENIs were all attached before this one: not its ENI"
                            };
                        }
                        s
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Owner::Kind(k) => (*k).to_string(),
        }
    }
}

fn fixed(r: &Resource) -> ResourceRef<'_> {
    ResourceRef {
        rtype: Some(r.rtype),
        name: r.name.as_deref(),
        user_profile: r.user_profile.as_deref(),
        candidates: None,
        document: None,
    }
}

fn window_text(w: Option<Window>) -> String {
    let t = |s: i64| {
        chrono::DateTime::from_timestamp(s, 0)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| format!("@{s}"))
    };
    match w {
        None => "no usable time: matches no record".to_string(),
        Some(Window { from, to: None }) => format!("{} ..", t(from)),
        Some(Window { from, to: Some(e) }) => format!("{} .. {}", t(from), t(e)),
    }
}
