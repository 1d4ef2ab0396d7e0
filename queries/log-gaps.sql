-- rule: log-gaps
-- severity: medium
-- description: Windows in which a SageMaker ENI's traffic was not recorded (SKIPDATA: records lost; NODATA: nothing captured), and SageMaker ENIs covered by a flow log of accepted traffic that have no record at all in the scanned data (full scans only: an incremental run sees only new data).
SELECT interface_id, srcaddr, dstaddr, srcport, dstport, protocol, start, action,
       sagemaker_resource_type, sagemaker_resource, sagemaker_user_profile,
       log_status, "end", attribution_rule, attribution_document, source_object, source_line
FROM flows
WHERE eni_owner_kind = 'sagemaker'
  AND log_status IN ('NODATA', 'SKIPDATA')
UNION ALL
SELECT e.interface_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       e.sagemaker_resource_type, e.sagemaker_resource, e.sagemaker_user_profile,
       'NO RECORDS', NULL, e.attribution_rule, e.attribution_document, NULL, NULL
FROM enis e
WHERE e.eni_owner_kind = 'sagemaker'
  AND e.accepted_logged
  -- Every record of an ENI that describe-network-interfaces lists has that ENI's owner
  -- kind (the enis table's), so only SageMaker records can name these ENIs: reading
  -- just those keeps the other records out of this rule (and, on workers, on them).
  AND e.interface_id NOT IN (SELECT interface_id FROM flows
                             WHERE interface_id IS NOT NULL AND eni_owner_kind = 'sagemaker')
  AND NOT EXISTS (SELECT 1 FROM scan_context WHERE incremental)
