-- report: unknown-enis
-- description: ENIs with records that no inventory document names (deleted after their job, or the inventory is of another account, region or VPC: account_id and region say whose): their traffic can only be attributed by the record's subnet and time (attribution vpc_config_by_record), if at all. Add their describe-network-interfaces output, or take the inventory while the workloads run. A record without an ENI (a regional NAT gateway's) is listed by its resource-id: add describe-nat-gateways.
SELECT coalesce(interface_id, resource_id) AS interface_id, max(account_id) AS account_id,
       max(region) AS region,
       max(vpc_id) AS vpc_id, max(subnet_id) AS subnet_id, count(*) AS records, sum(bytes) AS bytes,
       sum(CASE WHEN attribution = 'vpc_config_by_record' THEN 1 ELSE 0 END) AS attributed_records,
       min(start) AS first_start, max("end") AS last_end
FROM flows
WHERE coalesce(interface_id, resource_id) IS NOT NULL
  AND (attribution IS NULL OR attribution = 'vpc_config_by_record')
GROUP BY coalesce(interface_id, resource_id)
ORDER BY records DESC, interface_id
