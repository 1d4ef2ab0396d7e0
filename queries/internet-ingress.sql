-- rule: internet-ingress
-- severity: high
-- description: Accepted connections from the internet to a SageMaker ENI, where the SageMaker side is the server (its port is lower than the remote's ephemeral port), not replies to its own egress.
SELECT interface_id, srcaddr, dstaddr, srcport, dstport, protocol, start, action,
       sagemaker_resource_type, sagemaker_resource, sagemaker_user_profile,
       direction, remote_addr, remote_kind, remote_service, bytes
FROM flows
WHERE eni_owner_kind = 'sagemaker'
  AND action = 'ACCEPT'
  AND direction = 'ingress'
  AND remote_kind = 'internet'
  AND dstport < srcport
