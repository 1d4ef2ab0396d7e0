-- report: bytes-per-resource
-- description: Bytes and records per SageMaker resource and remote kind (accepted traffic seen on the workloads' own ENIs).
SELECT sagemaker_resource_type, sagemaker_resource, remote_kind,
       count(*) AS records, sum(bytes) AS bytes
FROM flows
WHERE eni_owner_kind = 'sagemaker' AND action = 'ACCEPT'
GROUP BY sagemaker_resource_type, sagemaker_resource, remote_kind
ORDER BY bytes DESC
