-- rule: blind-spots
-- severity: medium
-- description: SageMaker traffic your flow logs cannot see: notebook instances with DirectInternetAccess Enabled and Studio domains in PublicInternetOnly mode (their internet traffic leaves through a SageMaker-owned VPC; not one created after --until), jobs, endpoints, HyperPod clusters and MLflow tracking servers that ran in a SageMaker-managed VPC within the run's --since/--until window (no VpcConfig, serverless inference, MLflow: none of their traffic is logged), SageMaker ENIs in subnets or VPCs no flow log covers (and of which no accepted record was read), in-VPC workloads that ran in subnets no flow log of accepted traffic covered all the while they ran (one created while they ran covers only the rest; not for a window after it), unless an ENI of theirs in a covered subnet, or their own accepted records of the run where no listed flow log covers the subnet, show them, and SageMaker ENIs covered only by flow logs of rejected traffic (TrafficType REJECT), whose accepted traffic is never logged.
WITH seen AS (
  -- When each SageMaker ENI's accepted traffic was recorded, in the records read.
  SELECT interface_id, min(start) AS first_start, max(start) AS last_start
  FROM flows
  WHERE interface_id IS NOT NULL AND eni_owner_kind = 'sagemaker' AND action = 'ACCEPT'
  GROUP BY interface_id
),
ran AS (
  -- When each SageMaker workload's accepted traffic was recorded on its own ENIs (not NAT
  -- gateway legs), in the records read.
  SELECT sagemaker_resource_type AS resource_type, sagemaker_resource AS resource,
         min(start) AS first_start, max(start) AS last_start
  FROM flows
  WHERE eni_owner_kind = 'sagemaker' AND action = 'ACCEPT' AND sagemaker_resource IS NOT NULL
  GROUP BY sagemaker_resource_type, sagemaker_resource
),
shown AS (
  -- In-VPC workloads that an ENI of the inventory shows (by name, or as one of the
  -- candidates of an ENI several workloads of one VpcConfig had in turn): one in a subnet
  -- a flow log covered all the while the workload ran (it used no other), or, in a
  -- subnet no listed flow log covered at all, one whose accepted records of the
  -- workload's run were read (a flow log covered it then: one deleted since, or a shared
  -- VPC owner's). A subnet covered only from some time (`subnet until T`) is not shown
  -- by records after T. An ENI of which no accepted record was read and that no flow
  -- log of accepted traffic covers is a finding of its own (below), which says it.
  SELECT DISTINCT r.resource_type, r.resource
  FROM sagemaker_resources r
  JOIN enis e
    ON e.eni_owner_kind = 'sagemaker'
   AND ((e.sagemaker_resource_type = r.resource_type AND e.sagemaker_resource = r.resource)
        OR strpos(',' || e.sagemaker_candidates || ',',
                  ',' || r.resource_type || ':' || r.resource || ',') > 0)
  LEFT JOIN seen s ON s.interface_id = e.interface_id
  WHERE r.unlogged_subnets IS NOT NULL
    AND ((strpos(r.unlogged_subnets || ',', e.subnet_id || ',') = 0
          AND strpos(r.unlogged_subnets, e.subnet_id || ' ') = 0)
         OR (strpos(r.unlogged_subnets, e.subnet_id || ' until') = 0
             AND s.last_start >= r.active_from
             AND (r.active_to IS NULL OR s.first_start <= r.active_to))
         OR (NOT e.accepted_logged AND s.interface_id IS NULL))
  UNION
  -- One whose own records of its run were read, in subnets no listed flow log covered at
  -- all (its ENIs known from CloudTrail, or named by the records' subnet and time).
  SELECT r.resource_type, r.resource
  FROM sagemaker_resources r
  JOIN ran ON ran.resource_type = r.resource_type AND ran.resource = r.resource
  WHERE r.unlogged_subnets IS NOT NULL
    AND strpos(r.unlogged_subnets, ' until') = 0
    AND ran.last_start >= r.active_from
    AND (r.active_to IS NULL OR ran.first_start <= r.active_to)
)
SELECT CAST(NULL AS VARCHAR) AS interface_id, r.resource_type AS sagemaker_resource_type,
       r.resource AS sagemaker_resource, r.reason, r.document AS attribution_document,
       -- Which one of that name (one deleted and created again is another blind spot).
       r.active_from
FROM sagemaker_resources r
CROSS JOIN scan_context c
WHERE (r.direct_internet_access OR r.app_network_access_type = 'PublicInternetOnly')
  -- Not one created after the run's --until.
  AND (c.window_end IS NULL OR r.active_from IS NULL OR r.active_from <= c.window_end)
UNION ALL
-- Jobs, endpoints, HyperPod clusters and MLflow servers: those that ran in the run's --since/--until window (every one in the
-- inventory without a window). Notebooks and domains are the part above.
SELECT CAST(NULL AS VARCHAR), r.resource_type, r.resource, r.reason, r.document,
       r.active_from
FROM sagemaker_resources r
CROSS JOIN scan_context c
WHERE r.outside_vpc
  AND r.resource_type NOT IN ('notebook_instance', 'studio_domain')
  AND (c.window_end IS NULL OR r.active_from <= c.window_end)
  AND (c.window_start IS NULL OR r.active_to IS NULL OR r.active_to >= c.window_start)
UNION ALL
-- In-VPC workloads that ran in the window in subnets no flow log of accepted traffic
-- covered while they ran, unless an ENI shows them (above; a finished job's ENIs are
-- deleted, and the ENI rows below cannot show it).
SELECT CAST(NULL AS VARCHAR), r.resource_type, r.resource,
       'ran in subnets no flow log of accepted traffic covered (' || r.unlogged_subnets || '): its traffic there is not logged',
       r.document, r.active_from
FROM sagemaker_resources r
CROSS JOIN scan_context c
WHERE r.unlogged_subnets IS NOT NULL
  AND (c.window_end IS NULL OR r.active_from <= c.window_end)
  AND (c.window_start IS NULL OR r.active_to IS NULL OR r.active_to >= c.window_start)
  -- Only partly unlogged (flow logs created while it ran): not for a window after that.
  AND (r.logged_from IS NULL OR c.window_start IS NULL OR c.window_start < r.logged_from)
  AND NOT EXISTS (SELECT 1 FROM shown
                  WHERE shown.resource_type = r.resource_type AND shown.resource = r.resource)
UNION ALL
SELECT interface_id, sagemaker_resource_type, sagemaker_resource,
       'SageMaker ENI not covered by any flow log (' || coalesce(vpc_id, 'unknown VPC') || ')',
       attribution_document, attached_at
FROM enis
WHERE eni_owner_kind = 'sagemaker' AND NOT flow_logged
  -- Unless its accepted records were read: a flow log the inventory does not list (a
  -- shared VPC owner's, which a participant's describe-flow-logs cannot show) covers it.
  AND interface_id NOT IN (SELECT interface_id FROM flows
                           WHERE interface_id IS NOT NULL AND eni_owner_kind = 'sagemaker'
                             AND action = 'ACCEPT')
UNION ALL
SELECT interface_id, sagemaker_resource_type, sagemaker_resource,
       'SageMaker ENI covered only by flow logs with TrafficType REJECT: its accepted traffic is not logged',
       attribution_document, attached_at
FROM enis
WHERE eni_owner_kind = 'sagemaker' AND flow_logged AND NOT accepted_logged
  AND interface_id NOT IN (SELECT interface_id FROM flows
                           WHERE interface_id IS NOT NULL AND eni_owner_kind = 'sagemaker'
                             AND action = 'ACCEPT')
