//! The flow-log field catalogue (VPC versions 2–11 and Transit Gateway fields), the
//! canonical Arrow schema every input is decoded into, and parsing of record formats
//! (`--log-format` strings and header lines).
//!
//! A record's layout is always *named*: it comes from `--log-format`, a header line, or
//! the default v2 format. It is never guessed from how many tokens a line has.

pub mod enrichment;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::{Error, Result};

/// Unix seconds as ISO 8601 UTC (`2026-11-20T10:00:00Z`); out of range, the number. Every
/// stage that words a time for people (evidence, inventory tables, outputs) uses it.
pub fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}

/// How a field's text value is checked and typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text (ids, enums); kept as a string.
    Str,
    /// An IPv4 or IPv6 address, validated, kept as its text.
    Ip,
    /// A 32-bit integer (ports, protocol, flags, version, traffic path).
    Int32,
    /// A 64-bit integer (packets, bytes, counters).
    Int64,
    /// Unix seconds; values given in milliseconds are normalised to seconds.
    Epoch,
}

impl Kind {
    pub fn data_type(self) -> DataType {
        match self {
            Kind::Str | Kind::Ip => DataType::Utf8View,
            Kind::Int32 => DataType::Int32,
            Kind::Int64 | Kind::Epoch => DataType::Int64,
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Kind::Str => "string",
            Kind::Ip => "ip address (string)",
            Kind::Int32 => "int32",
            Kind::Int64 => "int64",
            Kind::Epoch => "int64 (unix seconds)",
        }
    }
}

/// One known flow-log field.
#[derive(Debug)]
pub struct FieldDef {
    /// The AWS name, as in `${name}` format strings and header lines.
    pub name: &'static str,
    /// The column name: Athena's underscore spelling.
    pub column: &'static str,
    /// The flow-log version that introduced it; 6 marks Transit Gateway fields.
    pub version: u8,
    pub kind: Kind,
    pub meaning: &'static str,
}

macro_rules! fields {
    ($( $name:literal, $col:literal, $ver:literal, $kind:ident, $meaning:literal; )*) => {
        /// Every known field, in the order of the canonical schema.
        pub static FIELDS: &[FieldDef] = &[
            $( FieldDef { name: $name, column: $col, version: $ver, kind: Kind::$kind, meaning: $meaning }, )*
        ];
    };
}

fields! {
    "version", "version", 2, Int32, "Flow-log version: 2 for the default format, else the highest version among the chosen fields";
    "account-id", "account_id", 2, Str, "Account that owns the interface; may be `unknown` for AWS-created interfaces";
    "interface-id", "interface_id", 2, Str, "Network interface (ENI) that captured the traffic";
    "srcaddr", "srcaddr", 2, Ip, "Source address (outgoing: the interface's own private address)";
    "dstaddr", "dstaddr", 2, Ip, "Destination address (incoming: the interface's own private address)";
    "srcport", "srcport", 2, Int32, "Source port";
    "dstport", "dstport", 2, Int32, "Destination port";
    "protocol", "protocol", 2, Int32, "IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6)";
    "packets", "packets", 2, Int64, "Packets in the aggregation window";
    "bytes", "bytes", 2, Int64, "Bytes in the aggregation window";
    "start", "start", 2, Epoch, "Unix seconds of the first packet in the window";
    "end", "end", 2, Epoch, "Unix seconds of the last packet in the window";
    "action", "action", 2, Str, "ACCEPT or REJECT (NULL for NODATA/SKIPDATA)";
    "log-status", "log_status", 2, Str, "OK, NODATA (no traffic) or SKIPDATA (records lost)";
    "vpc-id", "vpc_id", 3, Str, "VPC of the interface";
    "subnet-id", "subnet_id", 3, Str, "Subnet of the interface";
    "instance-id", "instance_id", 3, Str, "Instance of the interface if you own it (NULL for requester-managed interfaces)";
    "tcp-flags", "tcp_flags", 3, Int32, "OR of TCP flags in the window: FIN 1, SYN 2, RST 4, SYN-ACK 18";
    "type", "type", 3, Str, "IPv4, IPv6 or EFA";
    "pkt-srcaddr", "pkt_srcaddr", 3, Ip, "Original source address of the packet (differs from srcaddr through NAT/TGW)";
    "pkt-dstaddr", "pkt_dstaddr", 3, Ip, "Original destination address of the packet";
    "region", "region", 4, Str, "Region of the interface";
    "az-id", "az_id", 4, Str, "Availability Zone ID of the interface";
    "sublocation-type", "sublocation_type", 4, Str, "wavelength, outpost or localzone";
    "sublocation-id", "sublocation_id", 4, Str, "ID of the sublocation";
    "pkt-src-aws-service", "pkt_src_aws_service", 5, Str, "ip-ranges.json service code of pkt-srcaddr";
    "pkt-dst-aws-service", "pkt_dst_aws_service", 5, Str, "ip-ranges.json service code of pkt-dstaddr";
    "flow-direction", "flow_direction", 5, Str, "ingress or egress, relative to the interface";
    "traffic-path", "traffic_path", 5, Int32, "Egress path: 1 same VPC, 2 IGW or gateway endpoint, 3 VGW, 4/5 peering, 6 local gateway, 7 gateway endpoint, 8 IGW";
    "ecs-cluster-arn", "ecs_cluster_arn", 7, Str, "ECS cluster ARN of the task";
    "ecs-cluster-name", "ecs_cluster_name", 7, Str, "ECS cluster name";
    "ecs-container-instance-arn", "ecs_container_instance_arn", 7, Str, "ECS container instance ARN (NULL on Fargate)";
    "ecs-container-instance-id", "ecs_container_instance_id", 7, Str, "ECS container instance ID (NULL on Fargate)";
    "ecs-container-id", "ecs_container_id", 7, Str, "Docker runtime ID of the first container";
    "ecs-second-container-id", "ecs_second_container_id", 7, Str, "Docker runtime ID of the second container";
    "ecs-service-name", "ecs_service_name", 7, Str, "ECS service that started the task";
    "ecs-task-definition-arn", "ecs_task_definition_arn", 7, Str, "ECS task definition ARN";
    "ecs-task-arn", "ecs_task_arn", 7, Str, "ECS task ARN";
    "ecs-task-id", "ecs_task_id", 7, Str, "ECS task ID";
    "reject-reason", "reject_reason", 8, Str, "Why traffic was rejected: BPA (block public access), EC (encryption controls)";
    "resource-id", "resource_id", 9, Str, "Resource that handled the flow (e.g. a regional NAT gateway)";
    "encryption-status", "encryption_status", 10, Int32, "0 clear, 1 Nitro-encrypted, 2 application-encrypted, 3 both";
    "instance-tag", "instance_tag", 11, Str, "Value of the chosen EC2 instance tag";
    "instance-tag-2", "instance_tag_2", 11, Str, "Value of the second chosen EC2 instance tag";
    "interface-tag", "interface_tag", 11, Str, "Value of the chosen interface tag (percent-encoded)";
    "interface-tag-2", "interface_tag_2", 11, Str, "Value of the second chosen interface tag";
    "asg-tag", "asg_tag", 11, Str, "Value of the chosen Auto Scaling group tag";
    "asg-tag-2", "asg_tag_2", 11, Str, "Value of the second chosen Auto Scaling group tag";
    "interface-type", "interface_type", 11, Str, "Type of the capturing interface (nat_gateway, vpc_endpoint, transit_gateway, ...)";
    "next-hop-interface-id", "next_hop_interface_id", 11, Str, "Next-hop interface (egress: receiver; ingress: sender)";
    "next-hop-subnet-id", "next_hop_subnet_id", 11, Str, "Subnet of the next-hop interface";
    "next-hop-az-id", "next_hop_az_id", 11, Str, "AZ ID of the next-hop interface";
    "next-hop-vpc-id", "next_hop_vpc_id", 11, Str, "VPC of the next-hop interface";
    "next-hop-interface-type", "next_hop_interface_type", 11, Str, "Type of the next-hop interface";
    "resource-type", "resource_type", 6, Str, "Transit Gateway flow logs: resource type (TransitGateway)";
    "tgw-id", "tgw_id", 6, Str, "Transit gateway ID";
    "tgw-attachment-id", "tgw_attachment_id", 6, Str, "Transit gateway attachment ID";
    "tgw-src-vpc-account-id", "tgw_src_vpc_account_id", 6, Str, "Account of the source VPC";
    "tgw-dst-vpc-account-id", "tgw_dst_vpc_account_id", 6, Str, "Account of the destination VPC";
    "tgw-src-vpc-id", "tgw_src_vpc_id", 6, Str, "Source VPC";
    "tgw-dst-vpc-id", "tgw_dst_vpc_id", 6, Str, "Destination VPC";
    "tgw-src-subnet-id", "tgw_src_subnet_id", 6, Str, "Source subnet";
    "tgw-dst-subnet-id", "tgw_dst_subnet_id", 6, Str, "Destination subnet";
    "tgw-src-eni", "tgw_src_eni", 6, Str, "Source attachment interface";
    "tgw-dst-eni", "tgw_dst_eni", 6, Str, "Destination attachment interface";
    "tgw-src-az-id", "tgw_src_az_id", 6, Str, "Source AZ ID";
    "tgw-dst-az-id", "tgw_dst_az_id", 6, Str, "Destination AZ ID";
    "tgw-pair-attachment-id", "tgw_pair_attachment_id", 6, Str, "Attachment on the other side of the flow";
    "packets-lost-no-route", "packets_lost_no_route", 6, Int64, "Packets lost: no route";
    "packets-lost-blackhole", "packets_lost_blackhole", 6, Int64, "Packets lost: blackhole route";
    "packets-lost-mtu-exceeded", "packets_lost_mtu_exceeded", 6, Int64, "Packets lost: MTU exceeded";
    "packets-lost-ttl-expired", "packets_lost_ttl_expired", 6, Int64, "Packets lost: TTL expired";
}

/// Derived columns: `start`/`end` as UTC timestamps.
pub const START_TIME: &str = "start_time";
pub const END_TIME: &str = "end_time";

/// The default (version 2) format, fixed by AWS.
pub const DEFAULT_FORMAT: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

/// Looks a field up by its AWS (hyphen) or column (underscore) name, case-insensitively.
pub fn lookup(name: &str) -> Option<usize> {
    static INDEX: std::sync::OnceLock<HashMap<String, usize>> = std::sync::OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut m = HashMap::new();
        for (i, f) in FIELDS.iter().enumerate() {
            m.insert(f.name.to_string(), i);
            m.insert(f.column.to_string(), i);
        }
        m
    });
    if let Some(i) = index.get(name) {
        return Some(*i);
    }
    // Mixed separators (`tgw-src_subnet-id`) name a known field too: as an unknown field
    // its column would be the known one's, which the table cannot hold twice, so its
    // values were lost.
    index.get(&column_name(name)).copied()
}

/// Columns sageflow derives (times, enrichment) rather than reads: found in a file (an
/// export), they are recomputed, not taken as unknown fields.
pub fn is_derived_column(name: &str) -> bool {
    name == START_TIME
        || name == END_TIME
        || name == SOURCE_OBJECT
        || name == SOURCE_LINE
        || enrichment::COLUMNS.iter().any(|(c, _)| *c == name)
}

/// Provenance columns: the object a record was read from and its line in it (1-based; a
/// Parquet object's row number, a CloudWatch stream's event number as read). An export
/// keeps the values of the objects it was made from.
pub const SOURCE_OBJECT: &str = "source_object";
pub const SOURCE_LINE: &str = "source_line";

/// The column name an unknown field gets: lower case, hyphens as underscores.
pub fn column_name(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('-', "_")
}

/// What a column of the table is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnSource {
    /// A known field, by index into [`FIELDS`].
    Known(usize),
    /// A field sageflow does not know, kept as text.
    Unknown(String),
    /// `start_time` (false) or `end_time` (true).
    Time { end: bool },
    /// An enrichment column, by index into [`enrichment::COLUMNS`].
    Enriched(usize),
    /// `source_object` (false) or `source_line` (true).
    Provenance { line: bool },
}

/// The table schema: every known field, then unknown fields met in the inputs, then
/// `start_time`/`end_time`, then the enrichment columns, then `source_object` and
/// `source_line`.
#[derive(Debug, Clone)]
pub struct FlowSchema {
    schema: SchemaRef,
    sources: Arc<Vec<ColumnSource>>,
}

impl FlowSchema {
    /// The canonical schema plus the given unknown field names (as column names).
    pub fn new(extra: &[String]) -> Self {
        let mut fields = Vec::with_capacity(FIELDS.len() + extra.len() + 2);
        let mut sources = Vec::with_capacity(fields.capacity());
        for (i, f) in FIELDS.iter().enumerate() {
            fields.push(Field::new(f.column, f.kind.data_type(), true));
            sources.push(ColumnSource::Known(i));
        }
        let mut seen = std::collections::HashSet::new();
        for name in extra {
            let col = column_name(name);
            if lookup(&col).is_some() || !seen.insert(col.clone()) {
                continue;
            }
            fields.push(Field::new(&col, DataType::Utf8View, true));
            sources.push(ColumnSource::Unknown(col));
        }
        for (name, end) in [(START_TIME, false), (END_TIME, true)] {
            fields.push(Field::new(name, timestamp_type(), true));
            sources.push(ColumnSource::Time { end });
        }
        for (i, f) in enrichment::fields().into_iter().enumerate() {
            fields.push(f);
            sources.push(ColumnSource::Enriched(i));
        }
        fields.push(Field::new(SOURCE_OBJECT, DataType::Utf8View, true));
        sources.push(ColumnSource::Provenance { line: false });
        fields.push(Field::new(SOURCE_LINE, DataType::Int64, true));
        sources.push(ColumnSource::Provenance { line: true });
        FlowSchema {
            schema: Arc::new(Schema::new(fields)),
            sources: Arc::new(sources),
        }
    }

    pub fn arrow(&self) -> &SchemaRef {
        &self.schema
    }

    /// The columns of fields the catalogue does not know: what [`FlowSchema::new`] was given.
    pub fn extra(&self) -> Vec<String> {
        self.sources
            .iter()
            .filter_map(|s| match s {
                ColumnSource::Unknown(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn sources(&self) -> &[ColumnSource] {
        &self.sources
    }

    /// Index of a column by name.
    pub fn index_of(&self, column: &str) -> Option<usize> {
        self.schema.index_of(column).ok()
    }
}

impl Default for FlowSchema {
    fn default() -> Self {
        FlowSchema::new(&[])
    }
}

pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Second, Some("UTC".into()))
}

/// One position of a record layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    Known(usize),
    Unknown(String),
}

impl Slot {
    pub fn kind(&self) -> Kind {
        match self {
            Slot::Known(i) => FIELDS[*i].kind,
            Slot::Unknown(_) => Kind::Str,
        }
    }

    pub fn column(&self) -> &str {
        match self {
            Slot::Known(i) => FIELDS[*i].column,
            Slot::Unknown(c) => c,
        }
    }
}

/// The ordered fields of a record format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub slots: Vec<Slot>,
}

impl Layout {
    /// The default v2 format.
    pub fn default_v2() -> Self {
        Layout::parse(DEFAULT_FORMAT).expect("default format is valid")
    }

    /// A flow log's record format: its `LogFormat` in describe-flow-logs, or the default
    /// format when it has none.
    pub fn of_flow_log(log_format: Option<&str>) -> Result<Self> {
        log_format.map_or_else(|| Ok(Layout::default_v2()), Layout::parse)
    }

    /// The format a CloudWatch stream's records are read in: a stream is one ENI's, so when
    /// the format has no `interface-id`, the stream's ENI is read as one more, last field.
    pub fn with_stream_eni(&self) -> Self {
        let mut layout = self.clone();
        if !layout.has("interface-id")
            && let Some(i) = lookup("interface-id")
        {
            layout.slots.push(Slot::Known(i));
        }
        layout
    }

    /// Parses a format: AWS `${field}` syntax, or space-separated names with hyphens or
    /// underscores. Unknown names become text columns (see [`Layout::unknown`]); a name
    /// given twice is an error, since the two values could not both be kept.
    pub fn parse(format: &str) -> Result<Self> {
        let mut slots = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for raw in format.split_ascii_whitespace() {
            let name = raw
                .strip_prefix("${")
                .and_then(|s| s.strip_suffix('}'))
                .unwrap_or(raw);
            if name.is_empty() || !is_field_name(name) {
                return Err(Error::format(
                    Some(raw),
                    format!(
                        "`{raw}` is not a field name (expected `${{field-name}}` or a bare name such as `srcaddr`)"
                    ),
                ));
            }
            let slot = match lookup(name) {
                Some(i) => Slot::Known(i),
                None => Slot::Unknown(column_name(name)),
            };
            if !seen.insert(slot.column().to_string()) {
                return Err(Error::format(
                    Some(name),
                    format!("field `{name}` is listed twice"),
                ));
            }
            slots.push(slot);
        }
        if slots.is_empty() {
            return Err(Error::format(None, "the format names no field"));
        }
        Ok(Layout { slots })
    }

    /// Recognises a header line: every token is a field-name-shaped word and at least half
    /// of them are known fields. Flow records never look like this: their values include
    /// numbers, addresses, `-` or upper-case words.
    pub fn from_header(line: &str) -> Option<Self> {
        let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
        if tokens.is_empty() || !tokens.iter().all(|t| is_field_name(t)) {
            return None;
        }
        let known = tokens.iter().filter(|t| lookup(t).is_some()).count();
        if known * 2 < tokens.len() || known == 0 {
            return None;
        }
        Layout::parse(line).ok()
    }

    /// Refuses a layout with a field the catalogue does not know: a typo would otherwise
    /// become an empty column of its own. `origin` names where the layout came from.
    pub fn check_known(&self, origin: &str) -> Result<()> {
        match self.unknown().first() {
            Some(name) => Err(unknown_field(origin, &name.replace('_', "-"))),
            None => Ok(()),
        }
    }

    /// Whether the layout has the field `name` (`pkt-srcaddr` or `pkt_srcaddr`).
    pub fn has(&self, name: &str) -> bool {
        let Some(i) = lookup(name) else {
            return false;
        };
        self.slots.contains(&Slot::Known(i))
    }

    /// Unknown field names in this layout, as column names.
    pub fn unknown(&self) -> Vec<String> {
        self.slots
            .iter()
            .filter_map(|s| match s {
                Slot::Unknown(c) => Some(c.clone()),
                Slot::Known(_) => None,
            })
            .collect()
    }

    /// The format in AWS `${field}` syntax.
    pub fn to_aws_format(&self) -> String {
        self.slots
            .iter()
            .map(|s| match s {
                Slot::Known(i) => format!("${{{}}}", FIELDS[*i].name),
                Slot::Unknown(c) => format!("${{{}}}", c.replace('_', "-")),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The error for a field name the catalogue does not know, with the closest known one.
pub fn unknown_field(origin: &str, name: &str) -> Error {
    Error::format(
        Some(name),
        format!(
            "{origin}: `{name}` is not a flow-log field{}; if it is a field AWS added after this version of sageflow, pass --allow-unknown-fields to keep it as a text column",
            crate::suggest::did_you_mean(name, FIELDS.iter().map(|f| f.name))
        ),
    )
}

fn is_field_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Human description of a field's type, for `sageflow schema`.
pub fn kind_name(kind: Kind) -> &'static str {
    kind.type_name()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aws_syntax_and_bare_names_alike() {
        let a = Layout::parse("${version} ${account-id} ${pkt-dst-aws-service}").unwrap();
        let b = Layout::parse("version account_id pkt_dst_aws_service").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.slots.len(), 3);
    }

    #[test]
    fn unknown_fields_are_kept_as_columns() {
        let l = Layout::parse("version ${brand-new-field}").unwrap();
        assert_eq!(l.unknown(), vec!["brand_new_field".to_string()]);
    }

    #[test]
    fn rejects_duplicates_and_garbage() {
        assert!(Layout::parse("srcaddr srcaddr").is_err());
        assert!(Layout::parse("srcaddr 10.0.0.1").is_err());
        assert!(Layout::parse("   ").is_err());
    }

    #[test]
    fn mixed_separators_name_the_known_field() {
        // Found by fuzzing (fuzz/regressions/log_format/mixed-separator-field-name).
        let mixed = Layout::parse("version tgw-src_subnet-id pkt_src-aws-service").unwrap();
        assert_eq!(
            mixed,
            Layout::parse("version tgw-src-subnet-id pkt-src-aws-service").unwrap()
        );
        assert!(mixed.unknown().is_empty());
        assert_eq!(Layout::parse(&mixed.to_aws_format()).unwrap(), mixed);
        assert!(Layout::parse("tgw-src_subnet-id tgw_src-subnet_id").is_err());
    }

    #[test]
    fn header_detection_never_takes_a_record() {
        assert!(Layout::from_header(DEFAULT_FORMAT).is_some());
        assert!(
            Layout::from_header(
                "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"
            )
            .is_none()
        );
        // A record made only of lower-case ids is still not a header: none is a field name.
        assert!(Layout::from_header("i-0123456789 eni-0123456789").is_none());
        assert!(Layout::from_header("bogus line").is_none());
    }

    #[test]
    fn schema_has_every_field_and_times() {
        let s = FlowSchema::new(&["x-extra".into(), "srcaddr".into()]);
        assert_eq!(
            s.arrow().fields().len(),
            FIELDS.len() + 1 + 2 + enrichment::COLUMNS.len() + 2
        );
        assert!(s.index_of("x_extra").is_some());
        assert!(s.index_of("start_time").is_some());
        assert_eq!(
            s.arrow().field_with_name("srcport").unwrap().data_type(),
            &DataType::Int32
        );
        assert_eq!(
            s.arrow().field_with_name("bytes").unwrap().data_type(),
            &DataType::Int64
        );
    }
}
