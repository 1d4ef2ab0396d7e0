-- rule: private-dns-bypass
-- severity: high
-- description: A SageMaker workload resolved the name of an AWS service for which its VPC has an interface endpoint (api.sagemaker, runtime.sagemaker, sts, logs, ecr, the notebook and Studio UIs under sagemaker.aws, …) to an address that is not an interface endpoint's: private DNS is off on the endpoint, or the workload's resolver ignores it. Each egress record that went there is a finding; a resolution no egress followed is one too (remote_name_source dns_query, source_object and source_line naming the query-log line). Needs --dns (Route 53 Resolver query logs); remote_name is the host the workload asked for, remote_name_endpoint the endpoint it should have reached. Traffic that went through a VPC endpoint anyway (the S3 gateway endpoint) is not a finding.
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
  AND (remote_kind IS NULL OR remote_kind NOT IN ('interface_endpoint', 'gateway_endpoint'))
UNION ALL
SELECT a.interface_id, a.client_addr AS srcaddr, a.answer_addr AS dstaddr,
       CAST(NULL AS INT) AS srcport, CAST(NULL AS INT) AS dstport, CAST(NULL AS INT) AS protocol,
       a.query_time AS start, CAST(NULL AS VARCHAR) AS action,
       a.sagemaker_resource_type, a.sagemaker_resource, a.sagemaker_user_profile,
       a.sagemaker_candidates, a.eni_owner_kind, a.attribution,
       'egress' AS direction, a.answer_addr AS remote_addr, CAST(NULL AS VARCHAR) AS remote_kind,
       CAST(NULL AS VARCHAR) AS remote_service, a.query_name AS remote_name,
       'dns_query' AS remote_name_source, a.name_endpoint AS remote_name_endpoint,
       CAST(NULL AS BIGINT) AS bytes, a.query_time AS "end",
       a.attribution_rule, a.attribution_document,
       'resolved; no egress to the address followed' AS remote_evidence, a.source_object,
       a.source_line
FROM dns_answers a
WHERE a.eni_owner_kind = 'sagemaker'
  AND a.name_endpoint IS NOT NULL
  AND NOT a.answer_is_interface_endpoint
  AND NOT EXISTS (
    SELECT 1 FROM flows f
    WHERE f.remote_name_endpoint IS NOT NULL
      AND f.direction = 'egress'
      AND f.interface_id = a.interface_id
      AND f.remote_addr = a.answer_addr
      AND f.start >= a.query_time - 60)
