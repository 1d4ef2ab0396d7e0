-- rule: unattributed-aws-managed-enis
-- severity: low
-- description: ENIs managed by an AWS service (requester-managed or service-attached) that carry traffic but match no SageMaker resource, endpoint, NAT gateway or EFS mount: possibly a SageMaker workload missing from the inventory (add its describe-* output) or a leftover ENI. One finding per ENI.
SELECT interface_id, min(start) AS start, count(*) AS records, sum(bytes) AS bytes,
       min(attribution_rule) AS attribution_rule, min(attribution_document) AS attribution_document
FROM flows
WHERE eni_owner_kind = 'aws_managed'
GROUP BY interface_id
