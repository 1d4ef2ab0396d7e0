-- rule: log-gaps
-- severity: medium
-- description: Windows in which a SageMaker ENI's traffic was not recorded (SKIPDATA: records lost, at capacity or on an internal error), SageMaker ENIs whose every flow log of accepted traffic fails to deliver (DELIVERY FAILED: DeliverLogsStatus FAILED, records may be missing), and SageMaker ENIs covered by a flow log of accepted traffic that have no record at all in the scanned data (full scans only: an incremental run sees only new data; not an ENI attached to nothing, nor one attached or first covered after --until, after the time the objects read can hold (their names), or in the half hour before the run, whose records may still be on their way).
SELECT interface_id, srcaddr, dstaddr, srcport, dstport, protocol, start, action,
       sagemaker_resource_type, sagemaker_resource, sagemaker_user_profile,
       log_status, "end", attribution_rule, attribution_document, source_object, source_line
FROM flows
WHERE eni_owner_kind = 'sagemaker'
  -- NODATA is not a gap: AWS writes it for a window in which the ENI had no traffic, so
  -- it shows the flow log at work on an idle workload (and counts as the ENI's record below).
  AND log_status = 'SKIPDATA'
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
  -- Nothing was expected of an ENI attached to nothing (a leftover), nor of one attached,
  -- or first covered by a flow log, after the run's --until, after the time the objects
  -- read can hold, or so shortly before the run that its records may still be on their
  -- way (delivered_until).
  AND (e.status IS NULL OR e.status <> 'available')
  AND NOT EXISTS (SELECT 1 FROM scan_context c
                  WHERE c.delivered_until IS NOT NULL
                    AND (e.attached_at > c.delivered_until
                         OR e.accepted_logged_from > c.delivered_until))
UNION ALL
SELECT e.interface_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       e.sagemaker_resource_type, e.sagemaker_resource, e.sagemaker_user_profile,
       'DELIVERY FAILED', NULL, e.attribution_rule, e.attribution_document, NULL, NULL
FROM enis e
WHERE e.eni_owner_kind = 'sagemaker'
  AND e.delivery_failed
  AND (e.status IS NULL OR e.status <> 'available')
