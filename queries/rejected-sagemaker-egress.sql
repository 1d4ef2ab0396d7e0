-- rule: rejected-sagemaker-egress
-- severity: medium
-- description: Egress of a SageMaker ENI rejected by a security group or network ACL: the workload tried to reach something it may not. Rejected traffic never left, so it is not leaves-vpc. Not a reply to a connection the remote side opened (initiator 'remote', from the TCP flags).
SELECT interface_id, srcaddr, dstaddr, srcport, dstport, protocol, start, action,
       sagemaker_resource_type, sagemaker_resource, sagemaker_user_profile,
       direction, remote_addr, remote_kind, remote_service, bytes,
       "end", attribution_rule, attribution_document, remote_evidence, source_object, source_line
FROM flows
WHERE eni_owner_kind = 'sagemaker'
  AND action = 'REJECT'
  AND direction = 'egress'
  AND (initiator IS NULL OR initiator <> 'remote')
