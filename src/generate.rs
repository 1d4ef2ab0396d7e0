//! `sageflow generate`: deterministic synthetic flow logs in the S3 delivery layout (gzip,
//! header line, AWS object names) plus a matching inventory, for benchmarks and load tests.

use std::io::Write;
use std::path::Path;

use chrono::DateTime;
use serde_json::json;

use crate::error::{Error, Result};
use crate::format::DEFAULT_FORMAT;

/// The v5 custom format of generated logs (the sample's).
pub const V5_FORMAT: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";
const VPC: &str = "vpc-0b0e0c0d0e0f00001";

#[derive(Debug, Clone)]
pub struct Spec {
    pub records: u64,
    pub objects: u64,
    pub v5: bool,
    pub enis: u32,
    pub seed: u64,
    /// Unix seconds of the first object's window.
    pub start: i64,
}

/// SplitMix64: written out so that a seed gives the same corpus whatever the versions of
/// the dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct EniInfo {
    id: String,
    ip: String,
    subnet: &'static str,
    instance: Option<String>,
}

fn enis(n: u32) -> Vec<EniInfo> {
    (0..n)
        .map(|i| EniInfo {
            id: format!("eni-{:017x}", 0x0a00_0000_0000_0000_u64 + u64::from(i)),
            ip: format!("10.0.{}.{}", 1 + i / 250, 10 + i % 240),
            subnet: if i % 2 == 0 {
                "subnet-0b0e0c0d0e0f000a1"
            } else {
                "subnet-0b0e0c0d0e0f000b2"
            },
            // Every fourth ENI is a training job's (requester-managed, no instance).
            instance: (i % 4 != 0)
                .then(|| format!("i-{:017x}", 0x0b00_0000_0000_0000_u64 + u64::from(i))),
        })
        .collect()
}

/// Public AWS addresses (S3 and AMAZON ranges in us-east-1) and internet hosts.
const AWS_REMOTES: &[(&str, &str)] = &[
    ("52.216.{}.{}", "S3"),
    ("54.231.{}.{}", "S3"),
    ("54.239.{}.{}", "AMAZON"),
];

/// Writes the corpus; returns the object paths.
pub fn generate(out: &Path, spec: &Spec) -> Result<Vec<std::path::PathBuf>> {
    let enis = enis(spec.enis.max(1));
    let mut rng = Rng(spec.seed);
    let per_object = spec.records / spec.objects.max(1);
    let mut extra = spec.records % spec.objects.max(1);
    let mut paths = Vec::new();
    let (format, flow_log) = if spec.v5 {
        (V5_FORMAT, "fl-0b5b5b5b5b5b5b5b5")
    } else {
        (DEFAULT_FORMAT, "fl-0b2b2b2b2b2b2b2b2")
    };
    for o in 0..spec.objects.max(1) {
        let window = spec.start + (o as i64) * 300;
        let t = DateTime::from_timestamp(window, 0).unwrap_or_default();
        let dir = out.join(format!(
            "AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/{}",
            t.format("%Y/%m/%d")
        ));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(format!(
            "{ACCOUNT}_vpcflowlogs_{REGION}_{flow_log}_{}_{:08x}.log.gz",
            t.format("%Y%m%dT%H%MZ"),
            rng.next() as u32
        ));
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        let mut w = std::io::BufWriter::with_capacity(1 << 20, gz);
        let io = |e| Error::io(&path, e);
        writeln!(w, "{format}").map_err(io)?;
        let n = per_object + u64::from(extra > 0);
        extra = extra.saturating_sub(1);
        for _ in 0..n {
            write_record(&mut w, &mut rng, &enis, window, spec.v5).map_err(io)?;
        }
        let gz = w
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        gz.finish().map_err(io)?;
        paths.push(path);
    }
    write_inventory(&out.join("inventory"), &enis, format)?;
    Ok(paths)
}

fn write_record(
    w: &mut impl Write,
    rng: &mut Rng,
    enis: &[EniInfo],
    window: i64,
    v5: bool,
) -> std::io::Result<()> {
    let eni = &enis[rng.below(enis.len() as u64) as usize];
    let start = window + rng.below(240) as i64;
    let end = start + 1 + rng.below(59) as i64;
    if rng.below(1000) == 0 {
        write!(
            w,
            "{} {ACCOUNT} {} - - - - - - - {start} {end} - NODATA",
            if v5 { 5 } else { 2 },
            eni.id
        )?;
        if v5 {
            write!(
                w,
                " {VPC} {} {} - - - - {REGION} use1-az1 - - - -",
                eni.subnet,
                eni.instance.as_deref().unwrap_or("-")
            )?;
        }
        return writeln!(w);
    }
    let kind = rng.below(100);
    let (remote, service) = if kind < 60 {
        (
            format!("10.0.{}.{}", rng.below(40), 1 + rng.below(250)),
            None,
        )
    } else if kind < 85 {
        let (pat, svc) = AWS_REMOTES[rng.below(AWS_REMOTES.len() as u64) as usize];
        let ip = pat.replacen("{}", &rng.below(256).to_string(), 1).replacen(
            "{}",
            &(1 + rng.below(254)).to_string(),
            1,
        );
        (ip, Some(svc))
    } else {
        (
            format!(
                "{}.{}.{}.{}",
                100 + rng.below(100),
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            ),
            None,
        )
    };
    let egress = rng.below(2) == 0;
    let (src, dst) = if egress {
        (eni.ip.as_str(), remote.as_str())
    } else {
        (remote.as_str(), eni.ip.as_str())
    };
    let ephemeral = 32768 + rng.below(28000);
    let service_port = [443u64, 443, 443, 80, 22, 2049, 5432][rng.below(7) as usize];
    let (sport, dport) = if egress {
        (ephemeral, service_port)
    } else {
        (service_port, ephemeral)
    };
    let protocol = if rng.below(20) == 0 { 17 } else { 6 };
    let packets = 1 + rng.below(2000);
    let bytes = packets * (40 + rng.below(1400));
    let action = if rng.below(50) == 0 {
        "REJECT"
    } else {
        "ACCEPT"
    };
    write!(
        w,
        "{} {ACCOUNT} {} {src} {dst} {sport} {dport} {protocol} {packets} {bytes} {start} {end} {action} OK",
        if v5 { 5 } else { 2 },
        eni.id
    )?;
    if v5 {
        let flags = [2u64, 18, 19, 3, 1, 0][rng.below(6) as usize];
        let path = if !egress {
            "-"
        } else if service.is_some() {
            "7"
        } else if kind < 60 {
            "1"
        } else {
            "8"
        };
        let (ssvc, dsvc) = match (service, egress) {
            (Some(s), true) => ("-", s),
            (Some(s), false) => (s, "-"),
            (None, _) => ("-", "-"),
        };
        write!(
            w,
            " {VPC} {} {} {flags} IPv4 {src} {dst} {REGION} use1-az1 {ssvc} {dsvc} {} {path}",
            eni.subnet,
            eni.instance.as_deref().unwrap_or("-"),
            if egress { "egress" } else { "ingress" },
        )?;
    }
    writeln!(w)
}

fn write_inventory(dir: &Path, enis: &[EniInfo], format: &str) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let put = |name: &str, v: serde_json::Value| {
        let p = dir.join(name);
        std::fs::write(&p, serde_json::to_string_pretty(&v).expect("json"))
            .map_err(|e| Error::io(&p, e))
    };
    let nis: Vec<_> = enis
        .iter()
        .map(|e| {
            let mut ni = json!({
                "NetworkInterfaceId": e.id, "VpcId": VPC, "SubnetId": e.subnet, "OwnerId": ACCOUNT,
                "Description": "", "InterfaceType": "interface", "Status": "in-use",
                "PrivateIpAddress": e.ip,
                "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": e.ip}],
                "Groups": [{"GroupId": if e.instance.is_some() { "sg-0b0e0c0d0e0f00e01" } else { "sg-0b0e0c0d0e0f00f01" }, "GroupName": "g"}],
                "RequesterManaged": e.instance.is_none(), "TagSet": []
            });
            ni["Attachment"] = match &e.instance {
                Some(i) => json!({"AttachmentId": format!("eni-attach-{}", &e.id[4..]), "InstanceId": i, "InstanceOwnerId": ACCOUNT, "Status": "attached"}),
                None => json!({"AttachmentId": format!("ela-attach-{}", &e.id[4..]), "InstanceOwnerId": "amazon-aws", "Status": "attached"}),
            };
            ni
        })
        .collect();
    put(
        "describe-network-interfaces.json",
        json!({"NetworkInterfaces": nis}),
    )?;
    put(
        "describe-vpcs.json",
        json!({"Vpcs": [{"VpcId": VPC, "CidrBlock": "10.0.0.0/16", "CidrBlockAssociationSet": [{"CidrBlock": "10.0.0.0/16", "CidrBlockState": {"State": "associated"}}]}]}),
    )?;
    let aws_format: String = format
        .split(' ')
        .map(|f| format!("${{{f}}}"))
        .collect::<Vec<_>>()
        .join(" ");
    put(
        "describe-flow-logs.json",
        json!({"FlowLogs": [{"FlowLogId": "fl-generated", "ResourceId": VPC, "LogDestinationType": "s3", "LogFormat": aws_format}]}),
    )?;
    std::fs::create_dir_all(dir.join("sagemaker")).map_err(|e| Error::io(dir, e))?;
    put(
        "sagemaker/describe-training-job-bench.json",
        json!({"TrainingJobName": "bench", "TrainingStartTime": "2000-01-01T00:00:00+00:00", "TrainingEndTime": "2100-01-01T00:00:00+00:00",
               "VpcConfig": {"SecurityGroupIds": ["sg-0b0e0c0d0e0f00f01"], "Subnets": ["subnet-0b0e0c0d0e0f000a1", "subnet-0b0e0c0d0e0f000b2"]}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_complete() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let spec = Spec {
            records: 1001,
            objects: 3,
            v5: true,
            enis: 7,
            seed: 42,
            start: 1795132800,
        };
        let pa = generate(a.path(), &spec).unwrap();
        let pb = generate(b.path(), &spec).unwrap();
        assert_eq!(pa.len(), 3);
        for (x, y) in pa.iter().zip(&pb) {
            assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
        }
    }
}
