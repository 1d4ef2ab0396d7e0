-- rule: leaves-vpc
-- severity: high
-- description: Accepted traffic of a SageMaker workload whose remote address is outside its VPC and not reached through an interface or gateway endpoint (internet, NAT gateway, public AWS service, peering/TGW/VPN). Both directions. Flagged on the workload's own ENI; on a NAT gateway's ENI (eni_owner_kind nat_gateway, attribution packet_address) only when no flow log records the workload's ENI.
SELECT interface_id, resource_id, srcaddr, dstaddr, srcport, dstport, protocol, start, action,
       sagemaker_resource_type, sagemaker_resource, sagemaker_user_profile,
       sagemaker_candidates, eni_owner_kind, attribution,
       direction, remote_addr, remote_kind, remote_service, remote_vpc, remote_name, remote_name_source, bytes,
       "end", attribution_rule, attribution_document, remote_evidence, source_object, source_line
FROM flows
WHERE leaves_vpc
