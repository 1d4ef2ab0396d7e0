-- rule: leaves-vpc
-- severity: high
-- description: Accepted traffic of a SageMaker ENI whose remote address is outside its VPC and not reached through an interface or gateway endpoint (internet, NAT gateway, public AWS service, peering/TGW/VPN). Both directions.
SELECT interface_id, srcaddr, dstaddr, srcport, dstport, protocol, start, action,
       sagemaker_resource_type, sagemaker_resource, sagemaker_user_profile,
       direction, remote_addr, remote_kind, remote_service, bytes
FROM flows
WHERE leaves_vpc
