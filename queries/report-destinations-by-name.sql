-- report: destinations-by-name
-- description: Bytes SageMaker workloads exchanged per remote name (from --dns; NULL where no DNS answer names the address) and kind of remote.
SELECT sagemaker_resource_type, sagemaker_resource, remote_name, remote_kind,
       count(*) AS records, sum(bytes) AS bytes
FROM flows
WHERE eni_owner_kind = 'sagemaker' AND action = 'ACCEPT'
GROUP BY sagemaker_resource_type, sagemaker_resource, remote_name, remote_kind
ORDER BY bytes DESC, sagemaker_resource, remote_name
