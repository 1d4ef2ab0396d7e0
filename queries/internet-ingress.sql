-- rule: internet-ingress
-- severity: high
-- description: Accepted connections that a host on the internet opened to a SageMaker ENI. Who opened it comes from the TCP flags where the logs have them (the SYN without ACK, on this record or on the connection's first record); without them (v2 logs, UDP, a connection begun before the scanned data), the SageMaker side is taken as the server when its port is lower than the remote's, except that a port of its in the ephemeral range (from 32768) on an ENI no internet host can reach (no public IPv4 address, no IPv6 address behind an internet gateway: the enis table's reachable_from_internet) is a client's.
WITH handshakes AS (
  SELECT interface_id, local_addr, remote_addr,
         CASE WHEN direction = 'ingress' THEN dstport ELSE srcport END AS local_port,
         CASE WHEN direction = 'ingress' THEN srcport ELSE dstport END AS remote_port,
         count(CASE WHEN initiator = 'remote' THEN 1 END) AS opened_by_remote,
         count(CASE WHEN initiator = 'local' THEN 1 END) AS opened_by_local
  FROM flows
  WHERE eni_owner_kind = 'sagemaker' AND remote_kind = 'internet' AND initiator IS NOT NULL
  GROUP BY interface_id, local_addr, remote_addr,
           CASE WHEN direction = 'ingress' THEN dstport ELSE srcport END,
           CASE WHEN direction = 'ingress' THEN srcport ELSE dstport END
)
SELECT f.interface_id, f.srcaddr, f.dstaddr, f.srcport, f.dstport, f.protocol, f.start, f.action,
       f.sagemaker_resource_type, f.sagemaker_resource, f.sagemaker_user_profile,
       f.sagemaker_candidates, f.direction, f.remote_addr, f.remote_kind, f.remote_service,
       f.tcp_flags, f.initiator, f.bytes,
       f."end", f.attribution_rule, f.attribution_document, f.remote_evidence, f.source_object,
       f.source_line
FROM handshakes h
RIGHT JOIN (enis e RIGHT JOIN flows f ON e.interface_id = f.interface_id)
  ON h.interface_id = f.interface_id AND h.local_addr = f.local_addr
 AND h.remote_addr = f.remote_addr AND h.local_port = f.dstport AND h.remote_port = f.srcport
WHERE f.eni_owner_kind = 'sagemaker'
  AND f.action = 'ACCEPT'
  AND f.direction = 'ingress'
  AND f.remote_kind = 'internet'
  AND CASE
        WHEN f.initiator IS NOT NULL THEN f.initiator = 'remote'
        WHEN h.opened_by_remote > 0 AND h.opened_by_local = 0 THEN true
        WHEN h.opened_by_local > 0 AND h.opened_by_remote = 0 THEN false
        -- The workload's port in the ephemeral range Linux uses (from 32768) on an ENI
        -- no internet host can reach: a reply to a connection it opened to a server on a
        -- high port (gRPC's 50051), not a server of its own.
        WHEN f.dstport >= 32768 AND e.reachable_from_internet = false THEN false
        ELSE f.dstport < f.srcport
      END
