-- rule: endpoint-bypass
-- severity: high
-- description: Accepted egress of a SageMaker workload to a public AWS service address (pkt-dst-aws-service or ip-ranges.json; not EC2 or Global Accelerator addresses, which customers hold) that did not go through a gateway endpoint, whether or not the VPC has an endpoint for the service. On a NAT gateway's ENI only when no flow log records the workload's ENI.
SELECT interface_id, resource_id, srcaddr, dstaddr, srcport, dstport, protocol, start, action,
       sagemaker_resource_type, sagemaker_resource, sagemaker_user_profile,
       sagemaker_candidates, eni_owner_kind, attribution,
       direction, remote_addr, remote_kind, remote_service, remote_name, remote_name_source, bytes,
       "end", attribution_rule, attribution_document, remote_evidence, source_object, source_line
FROM flows
WHERE endpoint_bypass
