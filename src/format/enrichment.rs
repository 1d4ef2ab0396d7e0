//! The columns the enrichment stage adds to every record (`crate::enrich` computes
//! them): described here, with the rest of the `flows` table, so that every stage takes the
//! table's shape from one place.

use datafusion::arrow::datatypes::{DataType, Field};

/// The enrichment columns, in table order.
pub const COLUMNS: &[(&str, &str)] = &[
    (
        "eni_owner_kind",
        "sagemaker, vpc_endpoint, nat_gateway, efs, lambda, other_service, ec2, aws_managed, or unknown (also: an ENI no inventory document names)",
    ),
    (
        "sagemaker_resource_type",
        "studio_domain, notebook_instance, training_job, processing_job, transform_job, endpoint, hyperpod_cluster (NULL when candidates of different types fit)",
    ),
    (
        "sagemaker_resource",
        "domain id, notebook name, job name, endpoint name or HyperPod cluster name; NULL unless exactly one workload fits",
    ),
    (
        "sagemaker_user_profile",
        "Studio user profile the ENI's ManagedByAmazonSageMakerResource tag names (node/<domain>/<profile or space>/...): a private space's owner when describe-space or list-spaces is in the inventory, else the name the tag has (a shared space's included)",
    ),
    (
        "sagemaker_candidates",
        "type:name of every workload that fits the record, comma-separated, when more than one does",
    ),
    (
        "attribution",
        "eni (the record's ENI is in the inventory), eni_history (an ENI deleted before the inventory was taken, from the CloudTrail lifetime that holds the record's time), packet_address (a NAT gateway leg, by the workload address in the packet), vpc_config_by_record (an ENI missing from the inventory, by the record's subnet and time), resource_id (a record without an ENI, of the regional NAT gateway its resource-id names); NULL: no inventory document names the ENI",
    ),
    (
        "attribution_rule",
        "the rule that attributed the ENI: notebook_network_interface_id, studio_description, sagemaker_resource_tag, hyperpod_node, notebook_description, vpc_config or studio_security_group for SageMaker; vpc_endpoint_network_interface_ids, nat_gateway_network_interface_id, nat_gateway_id (a record without an ENI whose resource-id is the gateway's), interface_type, description, requester_id or eni_attachment otherwise",
    ),
    (
        "attribution_document",
        "the inventory file that rule read (the workload's describe-* file for vpc_config, the node's for hyperpod_node, else the file describing the ENI or notebook)",
    ),
    ("direction", "egress or ingress relative to the workload"),
    (
        "local_addr",
        "the workload-side address (original packet address where present)",
    ),
    (
        "remote_addr",
        "the other side's address (original packet address where present)",
    ),
    (
        "remote_kind",
        "same_vpc, interface_endpoint, gateway_endpoint, nat_gateway, aws_service, private_other or internet (EC2 and Global Accelerator addresses, which customers hold, are internet)",
    ),
    (
        "remote_service",
        "endpoint service name, s3/dynamodb for gateway endpoints, or the ip-ranges service code",
    ),
    (
        "remote_vpc",
        "the VPC the remote address is in, when the inventory places it (own VPC, an interface endpoint's VPC, a peer VPC)",
    ),
    (
        "remote_evidence",
        "what classified the remote: the interface endpoint, NAT gateway or VPC CIDR, the gateway endpoint's prefix list or route, traffic-path 7, pkt-*-aws-service, the ip-ranges.json prefix and service, another VPC's CIDR, NAT64, or the private range and the route out of the VPC",
    ),
    (
        "initiator",
        "local or remote: which side opened the TCP connection, from this record's SYN or SYN-ACK flag",
    ),
    (
        "remote_name",
        "with --dns: the name the workload asked for (the first of a CNAME chain, no trailing dot) whose answer was remote_addr, at or before the record's start (a minute of skew allowed), from Route 53 Resolver query logs; NULL when no answer matches",
    ),
    (
        "remote_name_source",
        "dns_same_client (the workload's own query; the latest wins) or dns_same_vpc (another client's in the VPC: the resolver's cache hides repeat queries; less sure)",
    ),
    (
        "remote_name_endpoint",
        "the interface endpoint of the record's VPC that serves remote_name (its private DNS name, e.g. api.sagemaker.<region>.amazonaws.com for sagemaker.api), when there is one",
    ),
    (
        "leaves_vpc",
        "ACCEPT traffic of a SageMaker workload whose remote is outside its VPC and not behind an endpoint",
    ),
    (
        "endpoint_bypass",
        "ACCEPT egress of a SageMaker workload to a public AWS service address, not through a gateway endpoint",
    ),
];

/// The number of text enrichment columns (all but the two flags, which come last).
pub const TEXT_COLUMNS: usize = 19;

/// The index in [`COLUMNS`] of `remote_evidence`, which is only computed when wanted.
pub const REMOTE_EVIDENCE: usize = 14;

/// The indices in [`COLUMNS`] of `remote_name`, `remote_name_source` and
/// `remote_name_endpoint`, which are only computed when one is wanted.
pub const REMOTE_NAMES: std::ops::Range<usize> = 16..19;

pub fn fields() -> Vec<Field> {
    COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let dt = if i >= TEXT_COLUMNS {
                DataType::Boolean
            } else {
                DataType::Utf8View
            };
            Field::new(*name, dt, true)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The indices the enrichment computes on demand name the columns they stand for.
    #[test]
    fn on_demand_indices_name_their_columns() {
        assert_eq!(COLUMNS[REMOTE_EVIDENCE].0, "remote_evidence");
        let names: Vec<&str> = COLUMNS[REMOTE_NAMES].iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            ["remote_name", "remote_name_source", "remote_name_endpoint"]
        );
        assert_eq!(COLUMNS[TEXT_COLUMNS].0, "leaves_vpc");
    }
}
