-- rule: private-dns-bypass
-- severity: high
-- description: A SageMaker workload resolved the name of an AWS service for which its VPC has an interface endpoint (api.sagemaker, runtime.sagemaker, sts, logs, ecr, …) to an address that is not an interface endpoint's, and its traffic went there: private DNS is off on the endpoint, or the workload's resolver ignores it. Needs --dns (Route 53 Resolver query logs); remote_name is the host the workload asked for, remote_name_endpoint the endpoint it should have reached.
SELECT interface_id, srcaddr, dstaddr, srcport, dstport, protocol, start, action,
       sagemaker_resource_type, sagemaker_resource, sagemaker_user_profile,
       sagemaker_candidates, eni_owner_kind, attribution,
       direction, remote_addr, remote_kind, remote_service, remote_name, remote_name_source,
       remote_name_endpoint, bytes,
       "end", attribution_rule, attribution_document, remote_evidence, source_object, source_line
FROM flows
WHERE eni_owner_kind = 'sagemaker'
  AND direction = 'egress'
  AND remote_name_endpoint IS NOT NULL
  AND (remote_kind IS NULL OR remote_kind <> 'interface_endpoint')
