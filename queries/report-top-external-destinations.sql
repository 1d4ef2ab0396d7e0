-- report: top-external-destinations
-- description: The 20 remote addresses outside the VPC that SageMaker workloads sent the most bytes to.
SELECT remote_addr, remote_kind, remote_service, count(*) AS records, sum(bytes) AS bytes
FROM flows
WHERE eni_owner_kind = 'sagemaker' AND direction = 'egress' AND action = 'ACCEPT'
  AND remote_kind IN ('internet', 'aws_service', 'private_other', 'nat_gateway')
GROUP BY remote_addr, remote_kind, remote_service
ORDER BY bytes DESC
LIMIT 20
