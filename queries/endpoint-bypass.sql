-- rule: endpoint-bypass
-- severity: high
-- description: Accepted egress of a SageMaker ENI to a public AWS service address (pkt-dst-aws-service or ip-ranges.json) that did not go through a gateway endpoint, whether or not the VPC has an endpoint for the service.
SELECT interface_id, srcaddr, dstaddr, srcport, dstport, protocol, start, action,
       sagemaker_resource_type, sagemaker_resource, sagemaker_user_profile,
       direction, remote_addr, remote_kind, remote_service, bytes
FROM flows
WHERE endpoint_bypass
