#!/usr/bin/env python3
"""Regenerate the sageflow sample dataset (everything under sample-logs/).

How to run (from the repository root):

    python3 -m venv /tmp/v && /tmp/v/bin/pip install pyarrow==26.0.1 && /tmp/v/bin/python sample-logs/generate.py

Only the Python 3.11 standard library is used, plus pyarrow for the single
Parquet object. The output is deterministic: a fixed random seed, gzip with
mtime=0 and no file name in the header, stable ordering everywhere. Running
the script twice gives byte-identical files (same Python/zlib/pyarrow).

The script removes and rewrites these paths under sample-logs/:
    v2-default/  v5-custom/  parquet-hive/  inventory/ (with cloudtrail/)  dns/  expected/  README.md
It never touches anything else.

After writing, the script reads its own output back (gzip text incl. the
multi-member file, the Parquet object and the inventory JSON), runs a small
reference implementation of the rules described in README.md, and fails if the
rule results differ from expected/findings.csv. That is how "no background
record accidentally matches a rule" is enforced.

Optional: `--check-ip-ranges PATH` verifies the hard-coded AWS service codes
(table IP_SERVICE_PREFIXES) against an ip-ranges.json file.
"""

import argparse
import calendar
import csv
import gzip
import hashlib
import io
import ipaddress
import json
import os
import random
import shutil
import sys
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261120
PYARROW_PIN = "26.0.1"

ACCOUNT = "111122223333"
REGION = "us-east-1"
BUCKET = "sageflow-sample-flow-logs-111122223333"

# --------------------------------------------------------------------------------------
# Network model
# --------------------------------------------------------------------------------------

VPC_ID = "vpc-0a1b2c3d4e5f60001"
VPC_CIDRS = ["10.20.0.0/16", "10.21.0.0/16"]
VPC_IPV6 = "2600:1f18:4a1b:c200::/56"
VPC2_ID = "vpc-0ffff00000000002"  # second VPC, no flow log
VPC2_CIDR = "10.99.0.0/16"
IGW_ID = "igw-0a1b2c3d4e5f60001"
IGW2_ID = "igw-0ffff00000000002"
NAT_ID = "nat-0a1b2c3d4e5f60001"
NAT_PUBLIC_IP = "44.200.10.10"
PCX_ID = "pcx-0a1b2c3d4e5f60001"
PEER_CIDR = "172.31.0.0/16"  # peered VPC (another team's default VPC), same region
RTB_PUBLIC = "rtb-0pub0000000000001"
RTB_PRIVATE = "rtb-0priv000000000001"
RTB_VPC2 = "rtb-0ffff000000000001"
S3_PL_ID = "pl-63a5400a"
DDB_PL_ID = "pl-02cd2c6b"
VPCE_S3 = "vpce-0s3gw000000000001"
VPCE_API = "vpce-0api0000000000001"
VPCE_RUNTIME = "vpce-0runtime00000001"
VPCE_STS = "vpce-0sts0000000000001"
EFS_ID = "fs-0abc1234def567890"
EFS_MT = "fsmt-0abc1234def567890"
VPCE_REQUESTER = "727180483921"  # AWS-owned requester of interface-endpoint ENIs (EC2 docs)
# The next three requester IDs are placeholders: no public capture of these values exists.
SM_REQUESTER = "AROAXSAGEMAKEREXAMPLE:SageMaker"
NAT_REQUESTER = "AIDAXNATGATEWAYEXAMPLE"
EFS_REQUESTER = "AIDAXEFSMOUNTTARGETEXAMPLE"
SM_INSTANCE_OWNER = "amazon-aws"

SUB_PUB = "subnet-0pub00000000000a1"
SUB_A = "subnet-0sm000000000000a1"
SUB_B = "subnet-0sm000000000000b2"
SUB_C = "subnet-0sm000000000000c3"
SUB_V2 = "subnet-0ffff000000000a01"

SUBNETS = {
    SUB_PUB: dict(cidr="10.20.0.0/24", az="us-east-1a", azid="use1-az1", vpc=VPC_ID, rtb=RTB_PUBLIC),
    SUB_A: dict(cidr="10.20.1.0/24", az="us-east-1a", azid="use1-az1", vpc=VPC_ID, rtb=RTB_PRIVATE),
    SUB_B: dict(cidr="10.20.2.0/24", az="us-east-1b", azid="use1-az2", vpc=VPC_ID, rtb=RTB_PRIVATE),
    SUB_C: dict(cidr="10.21.1.0/24", az="us-east-1c", azid="use1-az4", vpc=VPC_ID, rtb=RTB_PRIVATE),
    SUB_V2: dict(cidr="10.99.1.0/24", az="us-east-1a", azid="use1-az1", vpc=VPC2_ID, rtb=RTB_VPC2),
}


def sg_id(role):
    """sg-0<role>000…1, 16 characters after 'sg-' like the IDs in the brief."""
    return "sg-0" + role + "0" * (15 - len(role) - 1) + "1"


SG = {
    "nb": (sg_id("nb"), "sagemaker-nb-analyst"),
    "nblegacy": (sg_id("nblegacy"), "sagemaker-nb-legacy"),
    "nbpublic": (sg_id("nbpublic"), "sagemaker-nb-public"),
    "studio": (sg_id("studio"), "sagemaker-studio-d-sample12345"),
    "nfsout": (sg_id("nfsout"), "security-group-for-outbound-nfs-d-sample12345"),
    "nfsin": (sg_id("nfsin"), "security-group-for-inbound-nfs-d-sample12345"),
    "train": ("sg-0train0000000001", "sagemaker-training"),
    "trainc": (sg_id("trainc"), "sagemaker-training-nightly"),
    "proc": ("sg-0proc00000000001", "sagemaker-processing"),
    "model": ("sg-0model0000000001", "sagemaker-model-x"),
    "other": ("sg-0other0000000001", "ml-inference-2025"),
    "vpce": (sg_id("vpce"), "vpc-endpoints-https"),
    "app": (sg_id("app"), "app-server"),
    "studiopub": (sg_id("studiopub"), "sagemaker-studio-d-public0000"),
    "nfsoutpub": (sg_id("nfsoutpub"), "security-group-for-outbound-nfs-d-public0000"),
}
assert SG["train"][0] == sg_id("train") and SG["proc"][0] == sg_id("proc")

# name -> attributes.  ip = primary private IPv4; ips = all private IPv4s.
ENIS = {
    "NB": dict(id="eni-05aec870f7b234ef9", ip="10.20.1.10", subnet=SUB_A, sgs=["nb"],
               itype="interface", desc="", rm=False, attach="sm-eni"),
    "NB-LEGACY": dict(id="eni-001f63975f516f295", ip="10.20.2.10", subnet=SUB_B, sgs=["nblegacy"],
                      itype="interface", rm=False, attach="sm-eni",
                      desc="[Do not delete] Network Interface created to access resources in your VPC "
                           "for SageMaker Notebook Instance nb-legacy"),
    "NB-PUBLIC": dict(id="eni-0ea64323705f7277b", ip="10.20.2.60", subnet=SUB_B, sgs=["nbpublic"],
                      itype="interface", desc="", rm=False, attach="sm-eni"),
    "STUDIO-1": dict(id="eni-01f523f6f4d1cc1e7", ip="10.20.1.20", subnet=SUB_A, sgs=["studio", "nfsout"],
                     itype="interface", rm=False, attach="sm-eni",
                     desc="[DO NOT DELETE] ENI managed by SageMaker for Studio Domain(d-sample12345) - "
                          "0f3c9a1be2d44c5f8a7b6c5d4e3f2a10"),
    "STUDIO-ALICE": dict(id="eni-090c59fc3872ef3a7", ip="10.20.1.21", subnet=SUB_A, sgs=["studio", "nfsout"],
                         itype="interface", desc="", rm=False, attach="sm-eni",
                         tags={"ManagedByAmazonSageMakerResource":
                               "arn:aws:sagemaker:us-east-1:111122223333:node/d-sample12345/alice/"
                               "system-jupyterserverorkernelgateway"}),
    "TRAIN": dict(id="eni-07c690cc407310f14", ip="10.20.1.30", ips=["10.20.1.30", "10.20.1.31"], subnet=SUB_A,
                  sgs=["train"], itype="interface", desc="", rm=True, requester=SM_REQUESTER, attach="ela",
                  attach_time="2026-11-20T09:57:41+00:00"),
    "PROC": dict(id="eni-0f8ef811ad9262ea5", ip="10.21.1.30", subnet=SUB_C, sgs=["proc"],
                 itype="interface", desc="", rm=True, requester=SM_REQUESTER, attach="ela",
                 attach_time="2026-11-20T09:57:55+00:00"),
    "EP": dict(id="eni-0d4cde9c8caa2a500", ip="10.20.2.40", subnet=SUB_B, sgs=["model"],
               itype="interface", desc="", rm=True, requester=SM_REQUESTER, attach="ela",
               attach_time="2026-11-19T16:08:12+00:00"),
    "VPCE-API": dict(id="eni-0c5bde740a6b7c1ba", ip="10.20.1.100", subnet=SUB_A, sgs=["vpce"],
                     itype="vpc_endpoint", desc="VPC Endpoint Interface " + VPCE_API, rm=True,
                     requester=VPCE_REQUESTER, attach=None),
    "VPCE-RUNTIME": dict(id="eni-0b98dff52399992d9", ip="10.20.2.100", subnet=SUB_B, sgs=["vpce"],
                         itype="vpc_endpoint", desc="VPC Endpoint Interface " + VPCE_RUNTIME, rm=True,
                         requester=VPCE_REQUESTER, attach=None),
    "VPCE-STS": dict(id="eni-08cec8227b6e74b17", ip="10.20.1.101", subnet=SUB_A, sgs=["vpce"],
                     itype="vpc_endpoint", desc="VPC Endpoint Interface " + VPCE_STS, rm=True,
                     requester=VPCE_REQUESTER, attach=None),
    "NAT": dict(id="eni-058c7e05a713cb4eb", ip="10.20.0.50", subnet=SUB_PUB, sgs=[],
                itype="nat_gateway", desc="Interface for NAT Gateway " + NAT_ID, rm=True,
                requester=NAT_REQUESTER, attach="nat", public_ip=NAT_PUBLIC_IP),
    "EC2": dict(id="eni-031f66b9f7187a70d", ip="10.20.2.99", subnet=SUB_B, sgs=["app"],
                itype="interface", desc="Primary network interface", rm=False, attach="ec2",
                instance="i-0a7e3c2b1d4f56789", tags={}),
    "EFS": dict(id="eni-0d8463decf739c2c7", ip="10.20.1.200", subnet=SUB_A, sgs=["nfsin"],
                itype="efs", desc="EFS mount target for %s (%s)" % (EFS_ID, EFS_MT), rm=True,
                requester=EFS_REQUESTER, attach="efs"),
    "ORPHAN": dict(id="eni-0570e9225dac9e961", ip="10.20.2.77", subnet=SUB_B, sgs=["other"],
                   itype="interface", desc="", rm=True, requester=SM_REQUESTER, attach="ela",
                   attach_time="2025-09-03T08:14:27+00:00"),
    "STUDIO-PUB": dict(id="eni-0559186ddbdffe38a", ip="10.99.1.25", subnet=SUB_V2, sgs=["studiopub", "nfsoutpub"],
                       itype="interface", rm=False, attach="sm-eni",
                       desc="[DO NOT DELETE] ENI managed by SageMaker for Studio Domain(d-public0000) - "
                            "7d1e0c9b8a7f6e5d4c3b2a1908f7e6d5"),
    # Deleted: train-c's ENI, gone from describe-network-interfaces; only CloudTrail knows it.
    "TRAIN-C": dict(id="eni-0c7d2f4a9e1b35680", ip="10.20.2.31", subnet=SUB_B, sgs=["trainc"],
                    itype="interface", desc="", rm=True, requester=SM_REQUESTER, attach="ela", deleted=True),
}
for _n, _e in ENIS.items():
    _e["name"] = _n
    _e.setdefault("ips", [_e["ip"]])
    _e.setdefault("tags", {})
    _e["vpc"] = SUBNETS[_e["subnet"]]["vpc"]

IP_TO_ENI = {}
for _e in ENIS.values():
    if _e["vpc"] == VPC_ID:
        for _ip in _e["ips"]:
            IP_TO_ENI[_ip] = _e
NAT_IP = ENIS["NAT"]["ip"]

# S3 prefix-list entries: real us-east-1 S3 prefixes from the ip-ranges.json snapshot
# (createDate 2026-08-22-21-17-05).  3.5.0.0/19 is also tagged EC2 at the same length, so no
# traffic is generated towards it (its service code would be ambiguous).
S3_PL_ENTRIES = ["52.216.0.0/15", "54.231.0.0/16", "16.182.0.0/16", "3.5.0.0/19"]

# Every public address used in the logs -> most specific ip-ranges.json service code
# (longest prefix, then a specific code over AMAZON).  Addresses not listed are not AWS.
IP_SERVICE_PREFIXES = [
    ("52.216.0.0/15", "S3"),      # also AMAZON (same length)
    ("54.231.0.0/16", "S3"),      # also AMAZON
    ("16.182.0.0/16", "S3"),      # also AMAZON
    ("54.239.16.0/20", "AMAZON"),
    ("54.240.216.0/22", "AMAZON"),
]
S3_IPS = ["52.216.8.11", "52.216.145.230", "52.217.101.172", "54.231.132.98", "54.231.200.35",
          "16.182.34.10", "16.182.101.5"]
S3_IP_BYPASS = "52.217.44.196"     # (d) in 52.216.0.0/15, i.e. in the prefix list
AMAZON_IP_ALICE = "54.239.29.17"   # (c)
AMAZON_IP_NB = "54.240.217.13"     # (e)
AMAZON_IP_RUNTIME = "54.239.28.85"  # (l) resolved, never connected to
INTERNET_TRAIN = "203.0.113.50"    # (a)
INTERNET_TRAIN_C = "203.0.113.77"  # (k)
PEER_HOST = "172.31.40.10"         # (b)
INTERNET_CLIENT = "198.51.100.23"  # internet-ingress
INTERNET_SSH = "198.51.100.99"
GOOGLE_DNS = "8.8.8.8"
EC2_INTERNET = ["203.0.113.10", "203.0.113.17", "203.0.113.80", "203.0.113.141", "203.0.113.200"]
EC2_NTP = "203.0.113.123"
EC2_SMTP = "203.0.113.25"

_NETS = {}


def net(c):
    if c not in _NETS:
        _NETS[c] = ipaddress.ip_network(c)
    return _NETS[c]


def in_any(ip, cidrs):
    a = ipaddress.ip_address(ip)
    return any(a in net(c) for c in cidrs)


RFC1918 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]


def is_private(ip):
    """RFC 1918 only.  The RFC 5737 documentation ranges used here as internet hosts are public."""
    return in_any(ip, RFC1918)


def aws_service(ip):
    if ip is None or is_private(ip):
        return None
    best = None
    a = ipaddress.ip_address(ip)
    for c, s in IP_SERVICE_PREFIXES:
        n = net(c)
        if a in n and (best is None or n.prefixlen > best[0] or (n.prefixlen == best[0] and best[1] == "AMAZON")):
            best = (n.prefixlen, s)
    return best[1] if best else None


# --------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------

def ts(y, mo, d, h, mi, s=0):
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))


T0 = ts(2026, 11, 20, 10, 0)
RESOLVED_ONLY_AT = ts(2026, 11, 20, 11, 36, 40)  # (l)
NWIN = 24  # 10:00 .. 11:55
PARQUET_W = ts(2026, 11, 21, 9, 0)


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def wlabel(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y%m%dT%H%MZ")


def hm(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%H:%M:%S")


# SageMaker resources (times are what the describe-* documents say)
TRAIN_JOBS = [
    ("train-a", ts(2026, 11, 20, 10, 0), ts(2026, 11, 20, 10, 40)),
    ("train-b", ts(2026, 11, 20, 11, 0), ts(2026, 11, 20, 11, 40)),
]
PROC_JOB = ("proc-1", ts(2026, 11, 20, 10, 0), ts(2026, 11, 20, 12, 0))
# train-c ran after the others; its ENI was created and deleted before the inventory was taken.
TRAIN_C = ("train-c", ts(2026, 11, 20, 11, 45), ts(2026, 11, 20, 11, 55))
TRAIN_C_ENI_CREATED = ts(2026, 11, 20, 11, 43, 12)
TRAIN_C_ENI_DELETED = ts(2026, 11, 20, 11, 56, 40)


def train_job_at(t):
    for name, a, b in TRAIN_JOBS:
        if a <= t < b:
            return name
    return None


# Static attribution of ENIs to SageMaker resources (type, resource); TRAIN is time-dependent.
SM_STATIC = {
    "NB": ("notebook-instance", "nb-analyst"),
    "NB-LEGACY": ("notebook-instance", "nb-legacy"),
    "NB-PUBLIC": ("notebook-instance", "nb-public"),
    "STUDIO-1": ("domain", "d-sample12345"),
    "STUDIO-ALICE": ("user-profile", "d-sample12345/alice"),
    "PROC": ("processing-job", "proc-1"),
    "EP": ("endpoint", "ep-x"),
}


def sm_attr(name, t):
    if name == "TRAIN-C":
        return ("training-job", TRAIN_C[0] if TRAIN_C[1] <= t < TRAIN_C[2] else "")
    if name == "TRAIN":
        j = train_job_at(t)
        return ("training-job", j) if j else ("training-job", "")
    return SM_STATIC.get(name, ("", ""))


SAGEMAKER_ENIS = set(SM_STATIC) | {"TRAIN", "TRAIN-C"}

# --------------------------------------------------------------------------------------
# Record model
# --------------------------------------------------------------------------------------

V2_FIELDS = ["version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol",
             "packets", "bytes", "start", "end", "action", "log-status"]
V5_FIELDS = V2_FIELDS + ["vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr",
                         "region", "az-id", "pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction",
                         "traffic-path"]
INT32 = {"version", "srcport", "dstport", "protocol", "tcp-flags", "traffic-path"}
INT64 = {"packets", "bytes", "start", "end"}


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.records = []
        self.labels = []  # (record, rule, shapes)
        self.nat_expect = []  # (record, leg, type, resource)
        self.dns_expect = []  # (record, the name its client asked for just before)

    # ---- primitives --------------------------------------------------------------
    def eph(self):
        return self.rng.randint(32768, 60999)

    def rec(self, eni, src, dst, sport, dport, proto, pkts, nbytes, start, end, action, direction,
            path=None, pkt_src=None, pkt_dst=None, flags=None):
        e = ENIS[eni]
        pkt_src = pkt_src or src
        pkt_dst = pkt_dst or dst
        r = {
            "version": None, "account-id": ACCOUNT, "interface-id": e["id"], "srcaddr": src, "dstaddr": dst,
            "srcport": sport, "dstport": dport, "protocol": proto, "packets": pkts, "bytes": nbytes,
            "start": start, "end": end, "action": action, "log-status": "OK",
            "vpc-id": e["vpc"], "subnet-id": e["subnet"], "instance-id": e.get("instance"),
            "tcp-flags": flags if proto == 6 else 0, "type": "IPv4", "pkt-srcaddr": pkt_src,
            "pkt-dstaddr": pkt_dst, "region": REGION, "az-id": SUBNETS[e["subnet"]]["azid"],
            "pkt-src-aws-service": aws_service(pkt_src), "pkt-dst-aws-service": aws_service(pkt_dst),
            "flow-direction": direction, "traffic-path": path if direction == "egress" else None,
            "_eni": eni,
        }
        self.records.append(r)
        return r

    def gap(self, eni, start, status):
        e = ENIS[eni]
        r = {k: None for k in V5_FIELDS}
        r.update({"account-id": ACCOUNT, "interface-id": e["id"], "start": start, "end": start + 60 - 1 - self.rng.randint(0, 3),
                  "log-status": status, "_eni": eni})
        self.records.append(r)
        return r

    @staticmethod
    def egress_path(eni, dst, override=None):
        """traffic-path for an egress record and whether the flow is NAT'd."""
        if override is not None:
            return override, False
        if in_any(dst, VPC_CIDRS):
            return 1, False
        if in_any(dst, S3_PL_ENTRIES):
            return 7, False  # gateway endpoint (Nitro)
        if in_any(dst, [PEER_CIDR]):
            return 4, False
        if ENIS[eni]["subnet"] == SUB_PUB:
            return 8, False
        return 1, True  # next hop is the NAT gateway ENI in the same VPC

    # ---- a TCP/UDP/ICMP conversation initiated by a VPC ENI ------------------------
    def conv(self, client, dst, dport, proto, base, req, rep, *, sport=None, action="ACCEPT",
             mode="short", client_ip=None, path_override=None, server_action=None, exact=False):
        """client: ENI name.  dst: destination IP.  Returns dict role->record."""
        rng = self.rng
        ce = ENIS[client]
        cip = client_ip or ce["ip"]  # real packet source (may be a secondary IP)
        if sport is None:
            sport = 0 if proto == 1 else self.eph()
        if proto == 1:
            dport = 0
        fl = {"short": (3, 19), "mid": (0, 0), "syn": (2, 0), "open": (2, 18)}[mode]
        path, natted = self.egress_path(client, dst, path_override)
        out = {}
        # Times: the client's egress record first; the server / NAT see the request 0-1 s later, the reply
        # leaves 0-1 s after that and reaches the client 0-1 s later.  Same duration on every record (+0-1 s).
        s = base if exact else base + rng.randint(0, 2)
        d = rng.randint(1, 50)
        o1 = rng.randint(0, 1)
        o2 = o1 + rng.randint(0, 1)
        o3 = o2 + rng.randint(0, 1)

        def span(off):
            return s + off, s + off + d + rng.randint(0, 1)

        st, en = span(0)
        out["c_egress"] = self.rec(client, ce["ip"], dst, sport, dport, proto, req[0], req[1], st, en, action,
                                   "egress", path, pkt_src=cip, flags=fl[0])
        if action == "REJECT":
            return out
        server = IP_TO_ENI.get(dst)
        sact = server_action or "ACCEPT"
        if server is not None:
            st, en = span(o1)
            out["s_ingress"] = self.rec(server["name"], cip, server["ip"], sport, dport, proto, req[0], req[1],
                                        st, en, sact, "ingress", pkt_dst=dst, flags=fl[0])
            if sact == "REJECT":
                return out
        if natted:
            nport = 0 if proto == 1 else rng.randint(1024, 65535)
            st, en = span(o1)
            out["nat1"] = self.rec("NAT", cip, NAT_IP, sport, dport, proto, req[0], req[1], st, en, "ACCEPT",
                                   "ingress", pkt_src=cip, pkt_dst=dst, flags=fl[0])
            out["nat2"] = self.rec("NAT", NAT_IP, dst, nport, dport, proto, req[0], req[1], st, en, "ACCEPT",
                                   "egress", 8, flags=fl[0])
        if rep is None:
            return out
        if natted:
            st, en = span(o2)
            out["nat3"] = self.rec("NAT", dst, NAT_IP, dport, nport, proto, rep[0], rep[1], st, en, "ACCEPT",
                                   "ingress", flags=fl[1])
            out["nat4"] = self.rec("NAT", NAT_IP, cip, dport, sport, proto, rep[0], rep[1], st, en, "ACCEPT",
                                   "egress", 1, pkt_src=dst, pkt_dst=cip, flags=fl[1])
        if server is not None:
            st, en = span(o2)
            out["s_egress"] = self.rec(server["name"], server["ip"], cip, dport, sport, proto, rep[0], rep[1],
                                       st, en, "ACCEPT", "egress", 1, pkt_dst=cip, flags=fl[1])
        st, en = span(o3)
        out["c_ingress"] = self.rec(client, dst, ce["ip"], dport, sport, proto, rep[0], rep[1], st, en,
                                    "ACCEPT", "ingress", pkt_dst=cip, flags=fl[1])
        return out

    # ---- size helpers -------------------------------------------------------------
    def https_sizes(self):
        r = self.rng
        qp = r.randint(6, 24)
        pp = r.randint(5, 22)
        return (qp, qp * r.randint(90, 420)), (pp, pp * r.randint(200, 1300))

    def download_sizes(self, big=True):
        r = self.rng
        qp = r.randint(300, 2400) if big else r.randint(20, 120)
        pp = qp * r.randint(2, 3)
        return (qp, qp * r.randint(52, 90)), (pp, pp * r.randint(1200, 1448))

    def upload_sizes(self):
        r = self.rng
        qp = r.randint(200, 1500)
        pp = max(4, qp // r.randint(2, 3))
        return (qp, qp * r.randint(1200, 1448)), (pp, pp * r.randint(52, 90))

    def https(self, client, dst, base, **kw):
        q, p = self.https_sizes()
        return self.conv(client, dst, 443, 6, base, q, p, **kw)

    def persistent(self, client, dst, dport, sport, W, intervals, scale):
        """Long-lived TCP connection: one record pair per 60-s aggregation interval."""
        r = self.rng
        for k in intervals:
            base = W + 60 * k
            qp = r.randint(10, 60) * scale
            pp = r.randint(10, 60) * scale
            self.conv(client, dst, dport, 6, base, (qp, qp * r.randint(120, 900)), (pp, pp * r.randint(150, 1400)),
                      sport=sport, mode="mid")

    def label(self, r, rule, shapes="v2,v5"):
        self.labels.append((r, rule, shapes))


# --------------------------------------------------------------------------------------
# Traffic
# --------------------------------------------------------------------------------------

NFS_SPORT = {"STUDIO-1": 43120, "STUDIO-ALICE": 51022}
JUPYTER_SPORT = 40512
STUDIO_GAP_W = ts(2026, 11, 20, 11, 30)  # STUDIO-1 idle: NODATA (not a log gap: no traffic)


def background_window(g, W, *, include, rounds=1, persistent=True):
    r = g.rng

    def b():  # a start offset that leaves room for jitter + 60-s duration inside the window
        return W + r.randint(0, 230)

    def bj():  # job ENIs: never in the first seconds (jobs start at hh:mm:00.xxx)
        return W + r.randint(5, 230)

    train_job = train_job_at(W)
    train_active = "TRAIN" in include and (train_job is not None or
                                          ts(2026, 11, 20, 10, 45) <= W < ts(2026, 11, 20, 11, 0))
    studio1 = "STUDIO-1" in include and W != STUDIO_GAP_W
    for _ in range(rounds):
        # notebook nb-analyst: SageMaker API + runtime through the interface endpoints
        if "NB" in include:
            for _ in range(r.randint(2, 3)):
                g.https("NB", ENIS["VPCE-API"]["ip"], b())
            if r.random() < 0.5:
                g.https("NB", ENIS["VPCE-RUNTIME"]["ip"], b())
        if "NB-LEGACY" in include:
            g.https("NB-LEGACY", ENIS["VPCE-API"]["ip"], b())
            if r.random() < 0.5:
                g.https("NB-LEGACY", ENIS["VPCE-STS"]["ip"], b())
        if studio1:
            for _ in range(r.randint(1, 2)):
                g.https("STUDIO-1", ENIS["VPCE-API"]["ip"], b())
            if r.random() < 0.4:
                g.https("STUDIO-1", ENIS["VPCE-RUNTIME"]["ip"], b())
        if "STUDIO-ALICE" in include:
            for _ in range(r.randint(1, 2)):
                g.https("STUDIO-ALICE", ENIS["VPCE-API"]["ip"], b())
            if r.random() < 0.5:
                g.https("STUDIO-ALICE", ENIS["VPCE-STS"]["ip"], b())
            if r.random() < 0.35:
                q, p = g.https_sizes()
                g.conv("STUDIO-ALICE", ENIS["EP"]["ip"], 8080, 6, b(), q, p)
        if train_active:
            for i in range(r.randint(2, 3)):
                q, p = g.download_sizes(big=train_job is not None)
                # train-a runs two containers: the second uses the ENI's secondary IP 10.20.1.31
                cip = "10.20.1.31" if (train_job == "train-a" and i == 1) else None
                g.conv("TRAIN", r.choice(S3_IPS), 443, 6, bj(), q, p, client_ip=cip,
                       mode=r.choice(["short", "mid"]))
            g.https("TRAIN", ENIS["VPCE-STS"]["ip"], bj())
            if train_job is not None:
                g.https("TRAIN", ENIS["VPCE-API"]["ip"], bj(),
                        client_ip="10.20.1.31" if train_job == "train-a" else None)
            if train_job is not None and r.random() < 0.3:
                q, p = g.upload_sizes()
                g.conv("TRAIN", r.choice(S3_IPS), 443, 6, bj(), q, p)
        if "PROC" in include:
            for _ in range(r.randint(1, 2)):
                q, p = g.download_sizes(big=r.random() < 0.5)
                g.conv("PROC", r.choice(S3_IPS), 443, 6, bj(), q, p, mode=r.choice(["short", "mid"]))
            if r.random() < 0.5:
                g.https("PROC", ENIS["VPCE-STS"]["ip"], bj())
        if "EP" in include:
            if r.random() < 0.4:
                g.https("EP", ENIS["VPCE-STS"]["ip"], b())
            if r.random() < 0.25:
                q, p = g.download_sizes(big=False)
                g.conv("EP", r.choice(S3_IPS), 443, 6, b(), q, p)
        if "EC2" in include:
            for _ in range(r.randint(1, 2)):
                dst = r.choice(EC2_INTERNET)
                if r.random() < 0.25:
                    q, p = g.https_sizes()
                    g.conv("EC2", dst, 80, 6, b(), q, p)
                else:
                    g.https("EC2", dst, b())
            if r.random() < 0.5:
                g.conv("EC2", EC2_NTP, 123, 17, b(), (1, 76), (1, 76), sport=r.randint(32768, 60999))
            if r.random() < 0.2:
                g.conv("EC2", r.choice(EC2_INTERNET), 0, 1, b(), (4, 336), (4, 336))
            if r.random() < 0.5:
                g.https("EC2", ENIS["VPCE-STS"]["ip"], b())
            if r.random() < 0.15:  # SMTP blocked by the app-server SG egress rules
                g.conv("EC2", EC2_SMTP, 25, 6, b(), (3, 180), None, action="REJECT", mode="syn")
            if r.random() < 0.1 and "EP" in include:  # SSH to a model container: EP's SG rejects it
                g.conv("EC2", ENIS["EP"]["ip"], 22, 6, b(), (3, 180), None, mode="syn", server_action="REJECT")
        if "NB-PUBLIC" in include and r.random() < 0.5:
            q, p = g.https_sizes()
            g.conv("NB-PUBLIC", ENIS["EC2"]["ip"], 8443, 6, b(), q, p)
        if "NB-PUBLIC" in include and r.random() < 0.1:  # EC2's SG rejects SSH from the notebook
            g.conv("NB-PUBLIC", ENIS["EC2"]["ip"], 22, 6, b(), (3, 180), None, mode="syn", server_action="REJECT")
        if "ORPHAN" in include and r.random() < 0.4:
            g.https("ORPHAN", ENIS["VPCE-API"]["ip"], b())
    if persistent:
        # Studio home directories on EFS (NFS, long-lived) and JupyterServer <-> KernelGateway
        if studio1:
            g.persistent("STUDIO-1", ENIS["EFS"]["ip"], 2049, NFS_SPORT["STUDIO-1"], W, sorted(r.sample(range(5), 2)), 1)
            if "STUDIO-ALICE" in include:
                g.persistent("STUDIO-1", ENIS["STUDIO-ALICE"]["ip"], 8888, JUPYTER_SPORT, W, [r.randint(0, 4)], 1)
        if "STUDIO-ALICE" in include:
            g.persistent("STUDIO-ALICE", ENIS["EFS"]["ip"], 2049, NFS_SPORT["STUDIO-ALICE"], W,
                         sorted(r.sample(range(5), 2)), 1)


def idle_nodata(g, W, names):
    """NODATA for infrastructure ENIs without a record in the window (never for SageMaker ENIs)."""
    seen = {r["_eni"] for r in g.records if W <= r["start"] < W + 300}
    for n in names:
        if n not in seen:
            g.gap(n, W + g.rng.randint(0, 200), "NODATA")


LABEL_TIMES = {}


def labelled_flows(g):
    def at(h, m, s):
        return ts(2026, 11, 20, h, m, s)

    # (a) train-a -> internet via the NAT gateway
    o = g.conv("TRAIN", INTERNET_TRAIN, 443, 6, at(10, 22, 7), (42, 5210), (37, 41877), sport=48211, exact=True)
    g.label(o["c_egress"], "leaves-vpc")
    g.label(o["c_ingress"], "leaves-vpc")
    for leg in ("nat1", "nat2", "nat3", "nat4"):
        g.nat_expect.append((o[leg], leg, "a"))
    # (b) proc-1 -> peered VPC PostgreSQL
    o = g.conv("PROC", PEER_HOST, 5432, 6, at(10, 31, 12), (118, 15342), (96, 402113), sport=39950, exact=True)
    g.label(o["c_egress"], "leaves-vpc")
    g.label(o["c_ingress"], "leaves-vpc")
    # (c) Studio user alice -> AMAZON public IP via the NAT gateway
    o = g.conv("STUDIO-ALICE", AMAZON_IP_ALICE, 443, 6, at(11, 7, 40), (19, 3342), (15, 8920), sport=52877, exact=True)
    g.label(o["c_egress"], "leaves-vpc")
    g.label(o["c_egress"], "endpoint-bypass")
    g.label(o["c_ingress"], "leaves-vpc")
    for leg in ("nat1", "nat2", "nat3", "nat4"):
        g.nat_expect.append((o[leg], leg, "c"))
    # (d) train-b -> S3 (address in pl-63a5400a) but traffic-path 8 (internet gateway) in v5
    o = g.conv("TRAIN", S3_IP_BYPASS, 443, 6, at(11, 12, 3), (640, 48213), (1622, 2290413), sport=44102,
               path_override=8, exact=True)
    g.label(o["c_egress"], "endpoint-bypass", "v5")
    g.label(o["c_egress"], "leaves-vpc", "v5")
    # (e) notebook nb-analyst -> sagemaker.api public address via the NAT gateway
    o = g.conv("NB", AMAZON_IP_NB, 443, 6, at(11, 20, 26), (14, 2481), (12, 6133), sport=57719, exact=True)
    g.label(o["c_egress"], "leaves-vpc")
    g.label(o["c_egress"], "endpoint-bypass")
    g.label(o["c_egress"], "private-dns-bypass")
    g.label(o["c_ingress"], "leaves-vpc")
    for leg in ("nat1", "nat2", "nat3", "nat4"):
        g.nat_expect.append((o[leg], leg, "e"))
    # internet -> SageMaker endpoint ENI (ep-x), plus the reply
    s = at(11, 41, 2)
    i = g.rec("EP", INTERNET_CLIENT, ENIS["EP"]["ip"], 51515, 8080, 6, 11, 2214, s, s + 14, "ACCEPT", "ingress",
              flags=3)
    e = g.rec("EP", ENIS["EP"]["ip"], INTERNET_CLIENT, 8080, 51515, 6, 9, 3871, s + 1, s + 14, "ACCEPT", "egress",
              8, flags=19)
    g.label(i, "internet-ingress")
    g.label(i, "leaves-vpc")
    g.label(e, "leaves-vpc")
    # rejected egress
    s = at(10, 48, 33)
    r1 = g.rec("PROC", ENIS["PROC"]["ip"], INTERNET_SSH, 41822, 22, 6, 3, 180, s, s + 7, "REJECT", "egress", 1,
               flags=2)
    g.label(r1, "rejected-sagemaker-egress")
    s = at(11, 3, 51)
    r2 = g.rec("NB-LEGACY", ENIS["NB-LEGACY"]["ip"], GOOGLE_DNS, 53533, 53, 17, 2, 142, s, s + 5, "REJECT",
               "egress", 1)
    g.label(r2, "rejected-sagemaker-egress")
    # log gaps
    # NODATA says the ENI had no traffic in the window: the flow log at work, not a gap.
    g.gap("STUDIO-1", STUDIO_GAP_W + 64, "NODATA")
    g.label(g.gap("TRAIN", at(10, 17, 9), "SKIPDATA"), "log-gaps")


def build_text_traffic():
    g = Gen(SEED)
    everyone = {"NB", "NB-LEGACY", "NB-PUBLIC", "STUDIO-1", "STUDIO-ALICE", "TRAIN", "PROC", "EP", "EC2", "ORPHAN"}
    for w in range(NWIN):
        background_window(g, T0 + 300 * w, include=everyone)
    labelled_flows(g)
    for w in range(NWIN):
        idle_nodata(g, T0 + 300 * w, ["VPCE-RUNTIME", "VPCE-STS"])
    # Added after everything else, so that the records above stay as they were before train-c.
    deleted_job_flows(g)
    return g


def deleted_job_flows(g):
    """train-c (11:45-11:55) on an ENI deleted at 11:56:40: the inventory taken later does not list it."""
    def at(h, m, s):
        return ts(2026, 11, 20, h, m, s)

    g.https("TRAIN-C", ENIS["VPCE-API"]["ip"], at(11, 45, 31), exact=True)
    q, p = g.download_sizes()
    g.conv("TRAIN-C", S3_IPS[2], 443, 6, at(11, 46, 2), q, p, exact=True)
    # (k) the deleted job's egress to the internet through the NAT gateway
    o = g.conv("TRAIN-C", INTERNET_TRAIN_C, 443, 6, at(11, 47, 19), (31, 2904), (58, 70211), sport=51874,
               exact=True)
    g.label(o["c_egress"], "leaves-vpc")
    g.label(o["c_ingress"], "leaves-vpc")
    for leg in ("nat1", "nat2", "nat3", "nat4"):
        g.nat_expect.append((o[leg], leg, "k"))
    q, p = g.upload_sizes()
    g.conv("TRAIN-C", S3_IPS[4], 443, 6, at(11, 53, 40), q, p, exact=True)


def build_parquet_traffic():
    g = Gen(SEED + 1)
    inc = {"NB", "NB-LEGACY", "NB-PUBLIC", "STUDIO-1", "STUDIO-ALICE", "EP", "EC2"}
    background_window(g, PARQUET_W, include=inc, rounds=3)
    g.gap("VPCE-RUNTIME", PARQUET_W + 120, "NODATA")
    return g


# --------------------------------------------------------------------------------------
# DNS: Route 53 Resolver query logs of the VPC
# --------------------------------------------------------------------------------------

def vpce_dns(vid, dnsname):
    """The endpoint-specific (regional) DNS name of an interface endpoint."""
    return "%s-%s.%s.%s.vpce.amazonaws.com" % (vid, hx("dns" + vid, 8), dnsname, REGION)


S3_CNAME = "s3-1-w.amazonaws.com."
DATA_BUCKET_HOST = "ml-platform-data-%s.s3.%s.amazonaws.com" % (ACCOUNT, REGION)
ARTIFACT_BUCKET_HOST = "ml-platform-artifacts-%s.s3.%s.amazonaws.com" % (ACCOUNT, REGION)
# A Resolver forwarding rule sends sagemaker.us-east-1.amazonaws.com to an on-premises resolver, which
# takes precedence over the endpoints' private DNS: the platform's clients use the endpoint-specific
# vpce names, and a client that asks for the default name gets a public address ((e)).
LABELLED_NAMES = {
    AMAZON_IP_ALICE: ("sts.amazonaws.com", []),                       # (c) the global STS endpoint
    AMAZON_IP_NB: ("api.sagemaker.%s.amazonaws.com" % REGION,          # (e) private DNS bypassed
                   ["sagemaker-api-1f2e3d4c.%s.elb.amazonaws.com." % REGION]),
    INTERNET_TRAIN: ("downloads.example.com", []),                     # (a)
    INTERNET_TRAIN_C: ("repo.example.net", ["cdn.example.net."]),      # (k)
}
# processing jobs' JVM caches names for the life of the job: their lookups happened before the logs start
DNS_SILENT = {"PROC"}
CLIENT_CACHE_SECS = 300


def dns_name(client, dst):
    """(name, CNAME chain) a client asked for before connecting to dst; None: connected by address."""
    if dst == ENIS["VPCE-API"]["ip"]:
        return vpce_dns(VPCE_API, "api.sagemaker"), []
    if dst == ENIS["VPCE-RUNTIME"]["ip"]:
        return vpce_dns(VPCE_RUNTIME, "runtime.sagemaker"), []
    if dst == ENIS["VPCE-STS"]["ip"]:
        return "sts.%s.amazonaws.com" % REGION, []  # private DNS on: the endpoint's address
    if dst in S3_IPS:
        host = ARTIFACT_BUCKET_HOST if client in ("EP", "NB", "STUDIO-1", "STUDIO-ALICE") else DATA_BUCKET_HOST
        return host, [S3_CNAME]
    return LABELLED_NAMES.get(dst)


def dns_queries(g):
    """One query per client lookup: before a connection to a named address, unless the client's own cache
    still held that answer (CLIENT_CACHE_SECS).  Query times are unique, so "the latest answer" is never a tie."""
    rng = random.Random(SEED + 2)
    used = set()
    cache = {}
    out = []

    def stamp(t):
        while t in used:
            t -= 1
        used.add(t)
        return t

    def query(eni, client_ip, t, name, rcode, chain, addr, qtype="A"):
        answers = [{"Rdata": c, "Type": "CNAME", "Class": "IN"} for c in chain]
        if addr is not None:
            answers.append({"Rdata": addr, "Type": qtype, "Class": "IN"})
        q = {"version": "1.100000", "account_id": ACCOUNT, "region": REGION, "vpc_id": ENIS[eni]["vpc"],
             "query_timestamp": iso(stamp(t)), "query_name": name + ".", "query_type": qtype, "query_class": "IN",
             "rcode": rcode, "answers": answers, "srcaddr": client_ip, "srcport": str(rng.randint(32768, 60999)),
             "transport": "UDP"}
        if ENIS[eni].get("instance"):
            q["srcids"] = {"instance": ENIS[eni]["instance"]}
        out.append(q)
        return q

    egress = sorted((r for r in g.records if r["flow-direction"] == "egress" and r["action"] == "ACCEPT"
                     and r["_eni"] in SAGEMAKER_ENIS | {"EC2"}), key=sort_key)
    for r in egress:
        eni, client, dst = r["_eni"], r["pkt-srcaddr"], r["dstaddr"]
        if eni in DNS_SILENT or (eni == "EC2" and dst != ENIS["VPCE-STS"]["ip"]):
            continue
        named = dns_name(eni, dst)
        if named is None:
            continue
        name, chain = named
        last = cache.get((client, name, dst))
        if last is not None and r["start"] - last < CLIENT_CACHE_SECS:
            continue
        t = r["start"] - rng.randint(0, 3)
        if dst == AMAZON_IP_ALICE:  # the SDK asks for IPv6 first; the name has no AAAA record here
            query(eni, client, t - 1, name, "NOERROR", [], None, qtype="AAAA")
        if dst == INTERNET_TRAIN_C:  # the job's pip config tried an internal mirror first
            query(eni, client, t - 2, "mirror.internal.example", "NXDOMAIN", [], None)
        query(eni, client, t, name, "NOERROR", chain, dst)
        cache[(client, name, dst)] = r["start"]
        g.dns_expect.append((r, name))
    # (l) Studio's kernel asked for the runtime endpoint's default name, got a public address through
    # the forwarding rule, and was interrupted before it connected: a finding with no flow.
    q = query("STUDIO-1", ENIS["STUDIO-1"]["ip"], RESOLVED_ONLY_AT, "runtime.sagemaker.%s.amazonaws.com" % REGION,
              "NOERROR", [], AMAZON_IP_RUNTIME)
    assert parse_iso(q["query_timestamp"]) == RESOLVED_ONLY_AT
    return sorted(out, key=lambda q: (q["query_timestamp"], q["srcaddr"], q["query_name"], q["query_type"]))


DNS_FILE_SECS = 300


def write_dns(queries):
    """Resolver query logs as delivered to S3: NDJSON, gzip, one object per 5-minute window."""
    files = []
    by_window = {}
    for q in queries:
        t = int(parse_iso(q["query_timestamp"].replace("Z", "+00:00")))
        by_window.setdefault(t - t % DNS_FILE_SECS, []).append(q)
    for W in sorted(by_window):
        d = datetime.fromtimestamp(W, timezone.utc)
        name = "%s_vpcdnsquerylogs_%s_%s_%s.log.gz" % (ACCOUNT, REGION, wlabel(W), shash("dns" + wlabel(W)))
        rel = os.path.join("dns", "AWSLogs", ACCOUNT, "vpcdnsquerylogs", VPC_ID, "%04d" % d.year,
                           "%02d" % d.month, "%02d" % d.day, name)
        body = "".join(json.dumps(q, separators=(",", ":")) + "\n" for q in by_window[W])
        write(os.path.join(HERE, rel), gz(body.encode()))
        files.append((rel, len(by_window[W])))
    return files


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------

def fmt(v):
    return "-" if v is None else str(v)


def line(r, fields, version):
    vals = []
    for f in fields:
        v = version if f == "version" else r[f]
        vals.append(fmt(v))
    return " ".join(vals)


def sort_key(r):
    return (r["start"], r["interface-id"], r["srcaddr"] or "", r["dstaddr"] or "", r["srcport"] or 0,
            r["dstport"] or 0, r["log-status"])


def shash(s):
    return hashlib.sha256(s.encode()).hexdigest()[:8]


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


FL_V2 = "fl-0aaa1111bbbb22220"
FL_V5 = "fl-0ccc3333dddd44440"
FL_PQ = "fl-0eee5555ffff66660"
MULTI_MEMBER_W = ts(2026, 11, 20, 10, 30)


def write_text_shapes(recs):
    files = {"v2-default": [], "v5-custom": []}
    members = {"v2-default": 0, "v5-custom": 0}
    for w in range(NWIN):
        W = T0 + 300 * w
        win = sorted([r for r in recs if W <= r["end"] < W + 300], key=sort_key)
        for r in win:
            assert W <= r["start"] <= r["end"] < W + 300, r
        d = datetime.fromtimestamp(W, timezone.utc)
        for shape, fl, fields, ver, hourly in (("v2-default", FL_V2, V2_FIELDS, 2, False),
                                               ("v5-custom", FL_V5, V5_FIELDS, 5, True)):
            parts = ["AWSLogs", ACCOUNT, "vpcflowlogs", REGION, "%04d" % d.year, "%02d" % d.month, "%02d" % d.day]
            if hourly:
                parts.append("%02d" % d.hour)
            name = "%s_vpcflowlogs_%s_%s_%s_%s.log.gz" % (ACCOUNT, REGION, fl, wlabel(W), shash(fl + wlabel(W)))
            rel = os.path.join(shape, *parts, name)
            lines = [" ".join(fields)] + [line(r, fields, ver) for r in win]
            if shape == "v2-default" and W == MULTI_MEMBER_W:
                cut = len(lines) // 2
                data = gz(("\n".join(lines[:cut]) + "\n").encode()) + gz(("\n".join(lines[cut:]) + "\n").encode())
                members[shape] += 2
            else:
                data = gz(("\n".join(lines) + "\n").encode())
                members[shape] += 1
            write(os.path.join(HERE, rel), data)
            files[shape].append((rel, len(win)))
    return files, members


PARQUET_COLS = [f.replace("-", "_") for f in V5_FIELDS]


def write_parquet(recs):
    import pyarrow as pa
    import pyarrow.parquet as pq
    recs = sorted(recs, key=sort_key)
    for r in recs:
        assert PARQUET_W <= r["start"] <= r["end"] < PARQUET_W + 300, r
    cols, fields = [], []
    for f in V5_FIELDS:
        typ = pa.int32() if f in INT32 else pa.int64() if f in INT64 else pa.string()
        vals = [5 if f == "version" else r[f] for r in recs]
        cols.append(pa.array(vals, type=typ))
        fields.append(pa.field(f.replace("-", "_"), typ, nullable=True))
    table = pa.Table.from_arrays(cols, schema=pa.schema(fields))
    d = datetime.fromtimestamp(PARQUET_W, timezone.utc)
    name = "%s_vpcflowlogs_%s_%s_%s_%s.log.parquet" % (ACCOUNT, REGION, FL_PQ, wlabel(PARQUET_W),
                                                       shash(FL_PQ + wlabel(PARQUET_W)))
    rel = os.path.join("parquet-hive", "AWSLogs", "aws-account-id=" + ACCOUNT, "aws-service=vpcflowlogs",
                       "aws-region=" + REGION, "year=%04d" % d.year, "month=%02d" % d.month, "day=%02d" % d.day,
                       "hour=%02d" % d.hour, name)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="gzip", store_schema=False, data_page_version="1.0",
                   use_dictionary=True, write_statistics=True)
    write(os.path.join(HERE, rel), buf.getvalue())
    return rel, len(recs)


# --------------------------------------------------------------------------------------
# Inventory (AWS CLI v2 JSON output)
# --------------------------------------------------------------------------------------

def hx(seed, n):
    return hashlib.sha256(("sageflow/" + seed).encode()).hexdigest()[:n]


def ec2_time(s):
    return s  # already "YYYY-MM-DDTHH:MM:SS+00:00" (CLI v2 prints datetime.isoformat())


def dump(rel, obj):
    write(os.path.join(HERE, "inventory", rel), (json.dumps(obj, indent=4) + "\n").encode())


def eni_json(e):
    sub = SUBNETS[e["subnet"]]
    d = {}
    kind = e["attach"]
    if kind is not None:
        att = {"AttachTime": e.get("attach_time", "2026-11-01T08:00:00+00:00"),
               "AttachmentId": ("eni-attach-" if kind in ("ec2", "sm-eni") else "ela-attach-") + "0" + hx("att" + e["name"], 16),
               "DeleteOnTermination": kind == "ec2",
               "DeviceIndex": 0 if kind == "ec2" else 1,
               "NetworkCardIndex": 0}
        if kind == "ec2":
            att["InstanceId"] = e["instance"]
            att["InstanceOwnerId"] = ACCOUNT
        elif kind == "sm-eni":
            att["InstanceOwnerId"] = SM_INSTANCE_OWNER
        else:
            att["InstanceOwnerId"] = SM_INSTANCE_OWNER if kind == "ela" else "amazon-aws"
        att["Status"] = "attached"
        d["Attachment"] = att
    d["AvailabilityZone"] = sub["az"]
    d["AvailabilityZoneId"] = sub["azid"]
    d["Description"] = e["desc"]
    d["Groups"] = [{"GroupId": SG[s][0], "GroupName": SG[s][1]} for s in e["sgs"]]
    d["InterfaceType"] = e["itype"]
    d["Ipv6Addresses"] = []
    d["MacAddress"] = "0e:" + ":".join(hx("mac" + e["name"], 10)[i:i + 2] for i in range(0, 10, 2))
    d["NetworkInterfaceId"] = e["id"]
    d["OwnerId"] = ACCOUNT
    dns = "ip-%s.ec2.internal" % e["ip"].replace(".", "-")
    d["PrivateDnsName"] = dns
    d["PrivateIpAddress"] = e["ip"]
    pias = []
    for i, ip in enumerate(e["ips"]):
        p = {}
        if e.get("public_ip") and i == 0:
            p["Association"] = {"AllocationId": "eipalloc-0" + hx("eip", 16),
                                "AssociationId": "eipassoc-0" + hx("eipassoc", 16),
                                "IpOwnerId": ACCOUNT,
                                "PublicDnsName": "ec2-%s.compute-1.amazonaws.com" % e["public_ip"].replace(".", "-"),
                                "PublicIp": e["public_ip"]}
        p["Primary"] = i == 0
        p["PrivateDnsName"] = "ip-%s.ec2.internal" % ip.replace(".", "-")
        p["PrivateIpAddress"] = ip
        pias.append(p)
    if e.get("public_ip"):
        d["Association"] = dict(pias[0]["Association"])
    d["PrivateIpAddresses"] = pias
    d["Ipv4Prefixes"] = []
    d["Ipv6Prefixes"] = []
    if e.get("requester"):
        d["RequesterId"] = e["requester"]
    d["RequesterManaged"] = e["rm"]
    d["SourceDestCheck"] = e["itype"] != "nat_gateway"
    d["Status"] = "in-use"
    d["SubnetId"] = e["subnet"]
    d["TagSet"] = [{"Key": k, "Value": v} for k, v in e["tags"].items()]
    d["VpcId"] = e["vpc"]
    d["Operator"] = {"Managed": False}
    return d


def write_inventory():
    # describe-vpcs
    dump("describe-vpcs.json", {"Vpcs": [
        {"OwnerId": ACCOUNT, "InstanceTenancy": "default",
         "Ipv6CidrBlockAssociationSet": [{"AssociationId": "vpc-cidr-assoc-0" + hx("v6assoc", 16),
                                          "Ipv6CidrBlock": VPC_IPV6,
                                          "Ipv6CidrBlockState": {"State": "associated"},
                                          "NetworkBorderGroup": REGION, "Ipv6Pool": "Amazon"}],
         "CidrBlockAssociationSet": [{"AssociationId": "vpc-cidr-assoc-0" + hx("assoc" + c, 16), "CidrBlock": c,
                                      "CidrBlockState": {"State": "associated"}} for c in VPC_CIDRS],
         "IsDefault": False,
         "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
         "Tags": [{"Key": "Name", "Value": "ml-platform"}],
         "VpcId": VPC_ID, "State": "available", "CidrBlock": VPC_CIDRS[0],
         "DhcpOptionsId": "dopt-0" + hx("dopt", 16)},
        {"OwnerId": ACCOUNT, "InstanceTenancy": "default",
         "CidrBlockAssociationSet": [{"AssociationId": "vpc-cidr-assoc-0" + hx("assoc" + VPC2_CIDR, 16),
                                      "CidrBlock": VPC2_CIDR, "CidrBlockState": {"State": "associated"}}],
         "IsDefault": False,
         "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
         "Tags": [{"Key": "Name", "Value": "studio-public-sandbox"}],
         "VpcId": VPC2_ID, "State": "available", "CidrBlock": VPC2_CIDR,
         "DhcpOptionsId": "dopt-0" + hx("dopt", 16)},
    ]})
    # describe-network-interfaces
    dump("describe-network-interfaces.json",
         {"NetworkInterfaces": [eni_json(e) for e in ENIS.values() if not e.get("deleted")]})
    # describe-vpc-endpoints
    iface_policy = ('{\n  "Statement": [\n    {\n      "Action": "*", \n      "Effect": "Allow", \n'
                    '      "Principal": "*", \n      "Resource": "*"\n    }\n  ]\n}')
    gw_policy = ('{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*",'
                 '"Resource":"*"}]}')
    eps = []
    for vid, svc, eni, dnsname in ((VPCE_API, "sagemaker.api", "VPCE-API", "api.sagemaker"),
                                   (VPCE_RUNTIME, "sagemaker.runtime", "VPCE-RUNTIME", "runtime.sagemaker"),
                                   (VPCE_STS, "sts", "VPCE-STS", "sts")):
        e = ENIS[eni]
        suffix = hx("dns" + vid, 8)
        eps.append({
            "VpcEndpointId": vid, "VpcEndpointType": "Interface", "VpcId": VPC_ID,
            "ServiceName": "com.amazonaws.%s.%s" % (REGION, svc), "State": "available",
            "PolicyDocument": iface_policy, "RouteTableIds": [], "SubnetIds": [e["subnet"]],
            "Groups": [{"GroupId": SG["vpce"][0], "GroupName": SG["vpce"][1]}],
            "IpAddressType": "ipv4", "DnsOptions": {"DnsRecordIpType": "ipv4"},
            "PrivateDnsEnabled": True, "RequesterManaged": False, "NetworkInterfaceIds": [e["id"]],
            "DnsEntries": [
                {"DnsName": "%s-%s.%s.%s.vpce.amazonaws.com" % (vid, suffix, dnsname, REGION),
                 "HostedZoneId": "Z7HUB22UULQXV"},
                {"DnsName": "%s-%s-%s.%s.%s.vpce.amazonaws.com" % (vid, suffix, SUBNETS[e["subnet"]]["az"], dnsname,
                                                                    REGION),
                 "HostedZoneId": "Z7HUB22UULQXV"},
                {"DnsName": "%s.%s.amazonaws.com" % (dnsname, REGION), "HostedZoneId": "Z0" + hx("phz" + vid, 18).upper()},
            ],
            "CreationTimestamp": "2026-10-02T14:11:09.512000+00:00", "Tags": [], "OwnerId": ACCOUNT})
    eps.append({
        "VpcEndpointId": VPCE_S3, "VpcEndpointType": "Gateway", "VpcId": VPC_ID,
        "ServiceName": "com.amazonaws.%s.s3" % REGION, "State": "available", "PolicyDocument": gw_policy,
        "RouteTableIds": [RTB_PRIVATE], "SubnetIds": [], "Groups": [], "IpAddressType": "ipv4",
        "PrivateDnsEnabled": False, "RequesterManaged": False, "NetworkInterfaceIds": [], "DnsEntries": [],
        "CreationTimestamp": "2026-10-02T14:09:51.004000+00:00", "Tags": [], "OwnerId": ACCOUNT})
    dump("describe-vpc-endpoints.json", {"VpcEndpoints": eps})
    # describe-nat-gateways
    dump("describe-nat-gateways.json", {"NatGateways": [{
        "CreateTime": "2026-10-02T13:58:20+00:00",
        "NatGatewayAddresses": [{"AllocationId": "eipalloc-0" + hx("eip", 16),
                                 "NetworkInterfaceId": ENIS["NAT"]["id"], "PrivateIp": NAT_IP,
                                 "PublicIp": NAT_PUBLIC_IP, "AssociationId": "eipassoc-0" + hx("eipassoc", 16),
                                 "IsPrimary": True, "Status": "succeeded"}],
        "NatGatewayId": NAT_ID, "State": "available", "SubnetId": SUB_PUB, "VpcId": VPC_ID,
        "Tags": [{"Key": "Name", "Value": "ml-platform-nat"}], "ConnectivityType": "public"}]})
    # prefix lists
    dump("describe-managed-prefix-lists.json", {"PrefixLists": [
        {"PrefixListId": DDB_PL_ID, "AddressFamily": "IPv4", "State": "create-complete",
         "PrefixListArn": "arn:aws:ec2:%s:aws:prefix-list/%s" % (REGION, DDB_PL_ID),
         "PrefixListName": "com.amazonaws.%s.dynamodb" % REGION, "Tags": [], "OwnerId": "AWS"},
        {"PrefixListId": S3_PL_ID, "AddressFamily": "IPv4", "State": "create-complete",
         "PrefixListArn": "arn:aws:ec2:%s:aws:prefix-list/%s" % (REGION, S3_PL_ID),
         "PrefixListName": "com.amazonaws.%s.s3" % REGION, "Tags": [], "OwnerId": "AWS"}]})
    dump("get-managed-prefix-list-entries-%s.json" % S3_PL_ID,
         {"Entries": [{"Cidr": c} for c in S3_PL_ENTRIES]})
    # route tables
    local = [{"DestinationCidrBlock": c, "GatewayId": "local", "Origin": "CreateRouteTable", "State": "active"}
             for c in VPC_CIDRS]
    local6 = [{"DestinationIpv6CidrBlock": VPC_IPV6, "GatewayId": "local", "Origin": "CreateRouteTable",
               "State": "active"}]

    def assoc(rtb, sub=None, main=False):
        a = {"Main": main, "RouteTableAssociationId": "rtbassoc-0" + hx("rtba" + rtb + str(sub), 16),
             "RouteTableId": rtb}
        if sub:
            a["SubnetId"] = sub
        a["AssociationState"] = {"State": "associated"}
        return a

    dump("describe-route-tables.json", {"RouteTables": [
        {"Associations": [assoc(RTB_PUBLIC, SUB_PUB)], "PropagatingVgws": [], "RouteTableId": RTB_PUBLIC,
         "Routes": local + [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": IGW_ID, "Origin": "CreateRoute",
                             "State": "active"}] + local6 +
                   [{"DestinationIpv6CidrBlock": "::/0", "GatewayId": IGW_ID, "Origin": "CreateRoute",
                     "State": "active"}],
         "Tags": [{"Key": "Name", "Value": "public"}], "VpcId": VPC_ID, "OwnerId": ACCOUNT},
        {"Associations": [assoc(RTB_PRIVATE, None, True)] + [assoc(RTB_PRIVATE, s) for s in (SUB_A, SUB_B, SUB_C)],
         "PropagatingVgws": [], "RouteTableId": RTB_PRIVATE,
         "Routes": local + [
             {"DestinationCidrBlock": PEER_CIDR, "Origin": "CreateRoute", "State": "active",
              "VpcPeeringConnectionId": PCX_ID},
             {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": NAT_ID, "Origin": "CreateRoute",
              "State": "active"},
             {"DestinationPrefixListId": S3_PL_ID, "GatewayId": VPCE_S3, "Origin": "CreateRoute",
              "State": "active"}] + local6,
         "Tags": [{"Key": "Name", "Value": "private"}], "VpcId": VPC_ID, "OwnerId": ACCOUNT},
        {"Associations": [assoc(RTB_VPC2, None, True)], "PropagatingVgws": [], "RouteTableId": RTB_VPC2,
         "Routes": [{"DestinationCidrBlock": VPC2_CIDR, "GatewayId": "local", "Origin": "CreateRouteTable",
                     "State": "active"},
                    {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": IGW2_ID, "Origin": "CreateRoute",
                     "State": "active"}],
         "Tags": [], "VpcId": VPC2_ID, "OwnerId": ACCOUNT},
    ]})
    # flow logs
    def fl(fid, prefix, fields, opts, created):
        return {"CreationTime": created, "DeliverLogsStatus": "SUCCESS", "FlowLogId": fid,
                "FlowLogStatus": "ACTIVE", "ResourceId": VPC_ID, "TrafficType": "ALL",
                "LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::%s/%s" % (BUCKET, prefix),
                "LogFormat": " ".join("${%s}" % f for f in fields), "Tags": [],
                "MaxAggregationInterval": 60, "DestinationOptions": opts}

    dump("describe-flow-logs.json", {"FlowLogs": [
        fl(FL_V2, "v2-default", V2_FIELDS,
           {"FileFormat": "plain-text", "HiveCompatiblePartitions": False, "PerHourPartition": False},
           "2026-10-02T14:20:31.118000+00:00"),
        fl(FL_V5, "v5-custom", V5_FIELDS,
           {"FileFormat": "plain-text", "HiveCompatiblePartitions": False, "PerHourPartition": True},
           "2026-10-02T14:21:02.640000+00:00"),
        fl(FL_PQ, "parquet-hive", V5_FIELDS,
           {"FileFormat": "parquet", "HiveCompatiblePartitions": True, "PerHourPartition": True},
           "2026-11-21T08:41:17.905000+00:00"),
    ]})
    write_sagemaker()


def sm_arn(kind, name):
    return "arn:aws:sagemaker:%s:%s:%s/%s" % (REGION, ACCOUNT, kind, name)


ROLE = "arn:aws:iam::%s:role/service-role/AmazonSageMaker-ExecutionRole-20261002T141500" % ACCOUNT


def write_sagemaker():
    def nb(name, sub, sg, eni, dia, created):
        return {"NotebookInstanceArn": sm_arn("notebook-instance", name), "NotebookInstanceName": name,
                "NotebookInstanceStatus": "InService",
                "Url": "%s.notebook.%s.sagemaker.aws" % (name, REGION), "InstanceType": "ml.t3.medium",
                "SubnetId": sub, "SecurityGroups": [SG[sg][0]], "RoleArn": ROLE,
                "NetworkInterfaceId": ENIS[eni]["id"],
                "LastModifiedTime": "2026-11-20T08:02:44.871000+00:00", "CreationTime": created,
                "DirectInternetAccess": dia, "VolumeSizeInGB": 5, "RootAccess": "Enabled",
                "PlatformIdentifier": "notebook-al2-v3",
                "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "2"}}

    sm = lambda rel, obj: dump(os.path.join("sagemaker", rel), obj)  # noqa: E731
    sm("describe-notebook-instance-nb-analyst.json",
       nb("nb-analyst", SUB_A, "nb", "NB", "Disabled", "2026-10-05T09:12:30.402000+00:00"))
    sm("describe-notebook-instance-nb-public.json",
       nb("nb-public", SUB_B, "nbpublic", "NB-PUBLIC", "Enabled", "2026-10-19T15:40:07.733000+00:00"))

    def domain(did, name, access, vpc, subnets, sgs, efs, created):
        return {"DomainArn": sm_arn("domain", did), "DomainId": did, "DomainName": name,
                "HomeEfsFileSystemId": efs, "Status": "InService", "CreationTime": created,
                "LastModifiedTime": "2026-11-02T11:20:15.091000+00:00", "AuthMode": "IAM",
                "DefaultUserSettings": {"ExecutionRole": ROLE, "SecurityGroups": sgs,
                                        "SharingSettings": {"NotebookOutputOption": "Disabled"}},
                "AppNetworkAccessType": access, "SubnetIds": subnets,
                "Url": "https://%s.studio.%s.sagemaker.aws" % (did, REGION), "VpcId": vpc,
                "SecurityGroupIdForDomainBoundary": sg_id("bnd" + did[-4:]),
                "AppSecurityGroupManagement": "Service", "TagPropagation": "DISABLED"}

    sm("describe-domain-d-sample12345.json",
       domain("d-sample12345", "ml-platform", "VpcOnly", VPC_ID, [SUB_A, SUB_B], [SG["studio"][0]], EFS_ID,
              "2026-10-03T10:01:55.267000+00:00"))
    sm("describe-domain-d-public0000.json",
       domain("d-public0000", "sandbox", "PublicInternetOnly", VPC2_ID, [SUB_V2], [SG["studiopub"][0]],
              "fs-0" + hx("efs-pub", 16), "2026-10-28T17:44:09.550000+00:00"))

    def tj(name, start, end, created, data, sg="train", subnets=(SUB_A, SUB_B), warm_pool=None):
        secs = round(parse_iso(end) - parse_iso(start))
        j = {"TrainingJobName": name, "TrainingJobArn": sm_arn("training-job", name),
                "ModelArtifacts": {"S3ModelArtifacts": "s3://ml-platform-artifacts-%s/%s/output/model.tar.gz"
                                                       % (ACCOUNT, name)},
                "TrainingJobStatus": "Completed", "SecondaryStatus": "Completed",
                "HyperParameters": {"epochs": "20", "learning-rate": "0.001"},
                "AlgorithmSpecification": {
                    "TrainingImage": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5-gpu-py311",
                    "TrainingInputMode": "File", "EnableSageMakerMetricsTimeSeries": False},
                "RoleArn": ROLE,
                "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
                    "S3DataType": "S3Prefix", "S3Uri": "s3://ml-platform-data-%s/%s/" % (ACCOUNT, data),
                    "S3DataDistributionType": "FullyReplicated"}}, "CompressionType": "None",
                    "RecordWrapperType": "None"}],
                "OutputDataConfig": {"KmsKeyId": "", "S3OutputPath": "s3://ml-platform-artifacts-%s/" % ACCOUNT},
                "ResourceConfig": {"InstanceType": "ml.g5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
                "VpcConfig": {"SecurityGroupIds": [SG[sg][0]], "Subnets": list(subnets)},
                "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
                "CreationTime": created, "TrainingStartTime": start, "TrainingEndTime": end,
                "LastModifiedTime": end,
                "SecondaryStatusTransitions": [
                    {"Status": "Starting", "StartTime": created, "EndTime": start,
                     "StatusMessage": "Preparing the instances for training"},
                    {"Status": "Training", "StartTime": start, "EndTime": end,
                     "StatusMessage": "Training image download completed. Training in progress."},
                    {"Status": "Completed", "StartTime": end, "EndTime": end,
                     "StatusMessage": "Training job completed"}],
                "EnableNetworkIsolation": False, "EnableInterContainerTrafficEncryption": False,
                "EnableManagedSpotTraining": False, "TrainingTimeInSeconds": secs, "BillableTimeInSeconds": secs}
        if warm_pool:
            # A managed warm pool: the instance (and its ENI) outlives the job and the next
            # matching job runs on it; the earlier job's WarmPoolStatus names that job.
            j["ResourceConfig"]["KeepAlivePeriodInSeconds"] = 1800
            j["WarmPoolStatus"] = warm_pool
        return j

    # train-b reuses train-a's warm pool: one ENI, attached for train-a, serves both.
    sm("describe-training-job-train-a.json",
       tj("train-a", "2026-11-20T10:00:00.318000+00:00", "2026-11-20T10:40:00.775000+00:00",
          "2026-11-20T09:56:58.104000+00:00", "churn/v7",
          warm_pool={"Status": "Reused", "ResourceRetainedBillableTimeInSeconds": 1051,
                     "ReusedByJob": "train-b"}))
    sm("describe-training-job-train-b.json",
       tj("train-b", "2026-11-20T11:00:00.246000+00:00", "2026-11-20T11:40:00.519000+00:00",
          "2026-11-20T10:57:31.662000+00:00", "churn/v8", warm_pool={"Status": "Available"}))
    sm("describe-training-job-train-c.json",
       tj("train-c", "2026-11-20T11:45:00.412000+00:00", "2026-11-20T11:55:00.093000+00:00",
          "2026-11-20T11:42:05.377000+00:00", "churn/nightly", sg="trainc", subnets=(SUB_B,)))
    sm("describe-processing-job-proc-1.json", {
        "ProcessingInputs": [{"InputName": "input-1", "AppManaged": False, "S3Input": {
            "S3Uri": "s3://ml-platform-data-%s/raw/2026-11-19/" % ACCOUNT, "LocalPath": "/opt/ml/processing/input",
            "S3DataType": "S3Prefix", "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}}],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "features", "S3Output": {
            "S3Uri": "s3://ml-platform-data-%s/features/2026-11-20/" % ACCOUNT,
            "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}, "AppManaged": False}]},
        "ProcessingJobName": "proc-1",
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge",
                                                  "VolumeSizeInGB": 30}},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "AppSpecification": {"ImageUri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-1-cpu-py3",
                             "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/features.py"]},
        "NetworkConfig": {"EnableInterContainerTrafficEncryption": False, "EnableNetworkIsolation": False,
                          "VpcConfig": {"SecurityGroupIds": [SG["proc"][0]], "Subnets": [SUB_C]}},
        "RoleArn": ROLE, "ProcessingJobArn": sm_arn("processing-job", "proc-1"),
        "ProcessingJobStatus": "Completed",
        "ProcessingEndTime": "2026-11-20T12:00:00.402000+00:00",
        "ProcessingStartTime": "2026-11-20T10:00:00.127000+00:00",
        "LastModifiedTime": "2026-11-20T12:00:01.009000+00:00",
        "CreationTime": "2026-11-20T09:56:41.871000+00:00"})
    sm("describe-model-model-x.json", {
        "ModelName": "model-x",
        "PrimaryContainer": {"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                             "Mode": "SingleModel",
                             "ModelDataUrl": "s3://ml-platform-artifacts-%s/train-0/output/model.tar.gz" % ACCOUNT,
                             "Environment": {}},
        "ExecutionRoleArn": ROLE,
        "VpcConfig": {"SecurityGroupIds": [SG["model"][0]], "Subnets": [SUB_B]},
        "CreationTime": "2026-11-19T15:58:03.330000+00:00", "ModelArn": sm_arn("model", "model-x"),
        "EnableNetworkIsolation": False})
    sm("describe-endpoint-config-epc-x.json", {
        "EndpointConfigName": "epc-x", "EndpointConfigArn": sm_arn("endpoint-config", "epc-x"),
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "model-x", "InitialInstanceCount": 1,
                                "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}],
        "CreationTime": "2026-11-19T15:59:44.016000+00:00", "EnableNetworkIsolation": False})
    sm("describe-endpoint-ep-x.json", {
        "EndpointName": "ep-x", "EndpointArn": sm_arn("endpoint", "ep-x"), "EndpointConfigName": "epc-x",
        "ProductionVariants": [{"VariantName": "AllTraffic", "DeployedImages": [{
            "SpecifiedImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            "ResolvedImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost@sha256:"
                             + hashlib.sha256(b"sageflow/xgb").hexdigest(),
            "ResolutionTime": "2026-11-19T16:00:31.448000+00:00"}],
            "CurrentWeight": 1.0, "DesiredWeight": 1.0, "CurrentInstanceCount": 1, "DesiredInstanceCount": 1}],
        "EndpointStatus": "InService", "CreationTime": "2026-11-19T16:00:30.912000+00:00",
        "LastModifiedTime": "2026-11-19T16:09:02.577000+00:00"})


# --------------------------------------------------------------------------------------
# CloudTrail: the trail's log files and digests, as delivered to S3
# --------------------------------------------------------------------------------------
# Record shapes follow the CloudTrail User Guide ("CloudTrail record contents") and the
# CreateNetworkInterface example of the Amazon EFS User Guide (tests/data/cloudtrail/README.md):
# userIdentity.sessionContext.sessionIssuer, requestParameters, responseElements.networkInterface
# with groupSet.items / privateIpAddressesSet.item, errorCode on a DryRun.

TRAIL = "arn:aws:cloudtrail:%s:%s:trail/org-audit" % (REGION, ACCOUNT)
SM_SESSION = "SageMaker"


def ct_event(name, t, source, params, response, seq, error=None, by_sagemaker=True):
    role_name = ROLE.rsplit("/", 1)[1]
    who = {"type": "AssumedRole", "principalId": "AROAXSAGEMAKEREXAMPLE:" + SM_SESSION,
           "arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (ACCOUNT, role_name, SM_SESSION),
           "accountId": ACCOUNT, "accessKeyId": "ASIAXSAGEMAKEREXAMPLE",
           "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAXSAGEMAKEREXAMPLE",
                                                "arn": ROLE, "accountId": ACCOUNT, "userName": role_name},
                              "attributes": {"creationDate": iso(t - 120), "mfaAuthenticated": "false"}}}
    if by_sagemaker:
        who["invokedBy"] = "sagemaker.amazonaws.com"
    else:  # the nightly pipeline's scheduler starts the job
        who["principalId"] = "AROAXSCHEDULEREXAMPLE:nightly"
        who["arn"] = "arn:aws:sts::%s:assumed-role/ml-pipeline-scheduler/nightly" % ACCOUNT
        who["accessKeyId"] = "ASIAXSCHEDULEREXAMPLE"
        who["sessionContext"]["sessionIssuer"].update(
            principalId="AROAXSCHEDULEREXAMPLE", userName="ml-pipeline-scheduler",
            arn="arn:aws:iam::%s:role/ml-pipeline-scheduler" % ACCOUNT)
    r = {"eventVersion": "1.09", "userIdentity": who, "eventTime": iso(t), "eventSource": source,
         "eventName": name, "awsRegion": REGION,
         "sourceIPAddress": "sagemaker.amazonaws.com" if by_sagemaker else "198.51.100.200",
         "userAgent": "sagemaker.amazonaws.com" if by_sagemaker else "aws-cli/2.22.4 md/Botocore#1.35.71",
         "requestParameters": params, "responseElements": response,
         "requestID": "%s-%s-%s-%s-%s" % (hx("req%d" % seq, 8), hx("r1%d" % seq, 4), hx("r2%d" % seq, 4),
                                          hx("r3%d" % seq, 4), hx("r4%d" % seq, 12)),
         "eventID": "%s-%s-%s-%s-%s" % (hx("ev%d" % seq, 8), hx("e1%d" % seq, 4), hx("e2%d" % seq, 4),
                                        hx("e3%d" % seq, 4), hx("e4%d" % seq, 12)),
         "readOnly": name.startswith("Describe"), "eventType": "AwsApiCall", "managementEvent": True,
         "recipientAccountId": ACCOUNT, "eventCategory": "Management"}
    if error:
        r["errorCode"], r["errorMessage"] = error
    return r


def trail_events():
    e = ENIS["TRAIN-C"]
    sub = SUBNETS[e["subnet"]]
    sgs = [{"groupId": SG[x][0], "groupName": SG[x][1]} for x in e["sgs"]]
    create_params = {"subnetId": e["subnet"], "description": "", "groupSet": {"items": [{"groupId": g["groupId"]}
                                                                                       for g in sgs]},
                     "privateIpAddressesSet": {}, "ipv6AddressCount": 0}
    eni = {"networkInterfaceId": e["id"], "subnetId": e["subnet"], "vpcId": e["vpc"],
           "availabilityZone": sub["az"], "description": "", "ownerId": ACCOUNT, "requesterId": SM_REQUESTER,
           "requesterManaged": True, "status": "pending",
           "macAddress": "0e:" + ":".join(hx("mac" + e["name"], 10)[i:i + 2] for i in range(0, 10, 2)),
           "privateIpAddress": e["ip"], "privateDnsName": "ip-%s.ec2.internal" % e["ip"].replace(".", "-"),
           "sourceDestCheck": True, "interfaceType": "interface", "groupSet": {"items": sgs},
           "privateIpAddressesSet": {"item": [{"privateIpAddress": e["ip"], "privateDnsName":
                                               "ip-%s.ec2.internal" % e["ip"].replace(".", "-"), "primary": True}]},
           "ipv6AddressesSet": {}, "tagSet": {}}
    created = TRAIN_C_ENI_CREATED
    job = {"trainingJobName": TRAIN_C[0], "roleArn": ROLE,
           "vpcConfig": {"securityGroupIds": [SG["trainc"][0]], "subnets": [e["subnet"]]}}
    first = [
        ct_event("CreateTrainingJob", ts(2026, 11, 20, 11, 42, 5), "sagemaker.amazonaws.com", job,
                 {"trainingJobArn": sm_arn("training-job", TRAIN_C[0])}, 1, by_sagemaker=False),
        # SageMaker checks its permissions with a DryRun first: an errorCode event, not an ENI.
        ct_event("CreateNetworkInterface", created - 2, "ec2.amazonaws.com", dict(create_params, dryRun=True),
                 None, 2, error=("Client.DryRunOperation",
                                 "Request would have succeeded, but DryRun flag is set.")),
        ct_event("CreateNetworkInterface", created, "ec2.amazonaws.com", create_params,
                 {"requestId": hx("cni", 8), "networkInterface": eni}, 3),
        ct_event("DescribeNetworkInterfaces", created + 4, "ec2.amazonaws.com",
                 {"networkInterfaceIdSet": {"items": [{"networkInterfaceId": e["id"]}]}}, None, 4),
    ]
    second = [
        ct_event("DeleteNetworkInterface", TRAIN_C_ENI_DELETED, "ec2.amazonaws.com",
                 {"networkInterfaceId": e["id"]}, {"requestId": hx("dni", 8), "_return": True}, 5),
    ]
    return [first, second]


def write_cloudtrail():
    """Two log files (the trail delivers about every five minutes) and the hour's digest, which
    readers must skip."""
    base = ["inventory", "cloudtrail", "AWSLogs", ACCOUNT]
    day = ["us-east-1", "2026", "11", "20"]
    files = []
    for events in trail_events():
        t = int(parse_iso(events[-1]["eventTime"].replace("Z", "+00:00")))
        W = t - t % 300 + 300
        name = "%s_CloudTrail_%s_%s_%s.json.gz" % (ACCOUNT, REGION, wlabel(W), hx("ct" + wlabel(W), 16))
        rel = os.path.join(*base, "CloudTrail", *day, name)
        write(os.path.join(HERE, rel), gz(json.dumps({"Records": events}, separators=(",", ":")).encode()))
        files.append(rel)
    digest_end = ts(2026, 11, 20, 12, 0)
    digest = {"awsAccountId": ACCOUNT, "digestStartTime": iso(digest_end - 3600), "digestEndTime": iso(digest_end),
              "digestS3Bucket": BUCKET, "digestS3Object": "", "digestPublicKeyFingerprint": hx("fp", 32),
              "digestSignatureAlgorithm": "SHA256withRSA", "newestEventTime": iso(TRAIN_C_ENI_DELETED),
              "oldestEventTime": iso(ts(2026, 11, 20, 11, 42, 5)), "previousDigestS3Bucket": BUCKET,
              "previousDigestS3Object": "", "previousDigestHashValue": hx("prev", 64),
              "previousDigestHashAlgorithm": "SHA-256", "previousDigestSignature": hx("sig", 64),
              "logFiles": [{"s3Bucket": BUCKET, "s3Object": f.split("cloudtrail/", 1)[1],
                            "hashValue": hx("h" + f, 64), "hashAlgorithm": "SHA-256",
                            "newestEventTime": "", "oldestEventTime": ""} for f in files]}
    name = "%s_CloudTrail-Digest_%s_org-audit_%s_%sT%sZ.json.gz" % (
        ACCOUNT, REGION, REGION, "20261120", "120000")
    rel = os.path.join(*base, "CloudTrail-Digest", *day, name)
    write(os.path.join(HERE, rel), gz(json.dumps(digest, separators=(",", ":")).encode()))
    return files + [rel]


# --------------------------------------------------------------------------------------
# Expected results
# --------------------------------------------------------------------------------------

FINDING_COLS = ["rule", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "start", "action",
                "sagemaker_resource_type", "sagemaker_resource", "shapes"]
RULE_ORDER = ["leaves-vpc", "endpoint-bypass", "private-dns-bypass", "internet-ingress", "rejected-sagemaker-egress", "log-gaps",
              "unattributed-aws-managed-enis", "blind-spots"]


def finding_row(r, rule, shapes):
    typ, res = sm_attr(r["_eni"], r["start"])
    return {"rule": rule, "interface_id": r["interface-id"], "srcaddr": r["srcaddr"] or "",
            "dstaddr": r["dstaddr"] or "", "srcport": fmt_opt(r["srcport"]), "dstport": fmt_opt(r["dstport"]),
            "protocol": fmt_opt(r["protocol"]), "start": str(r["start"]), "action": r["action"] or "",
            "sagemaker_resource_type": typ, "sagemaker_resource": res, "shapes": shapes}


def fmt_opt(v):
    return "" if v is None else str(v)


def static_findings():
    rows = [
        {"rule": "unattributed-aws-managed-enis", "interface_id": ENIS["ORPHAN"]["id"],
         "sagemaker_resource_type": "aws-managed", "sagemaker_resource": "", "shapes": "v2,v5"},
        {"rule": "blind-spots", "interface_id": "", "sagemaker_resource_type": "notebook-instance",
         "sagemaker_resource": "nb-public", "shapes": "v2,v5,parquet"},
        {"rule": "blind-spots", "interface_id": "", "sagemaker_resource_type": "domain",
         "sagemaker_resource": "d-public0000", "shapes": "v2,v5,parquet"},
        {"rule": "blind-spots", "interface_id": ENIS["STUDIO-PUB"]["id"], "sagemaker_resource_type": "domain",
         "sagemaker_resource": "d-public0000", "shapes": "v2,v5,parquet"},
    ]
    out = []
    for r in rows:
        full = {c: "" for c in FINDING_COLS}
        full.update(r)
        out.append(full)
    return out


def sort_findings(rows):
    return sorted(rows, key=lambda x: (RULE_ORDER.index(x["rule"]), int(x["start"] or 0), x["interface_id"],
                                       x["srcaddr"], x["dstaddr"], x["sagemaker_resource"]))


def write_csv(rel, cols, rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    write(os.path.join(HERE, rel), buf.getvalue().encode())


NAME_COLS = ["interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "start", "remote_name",
             "remote_name_source", "shapes"]
NAT_COLS = ["flow", "leg", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport", "start", "pkt_srcaddr",
            "pkt_dstaddr", "flow_direction", "sagemaker_resource_type", "sagemaker_resource"]


def nat_rows(g):
    rows = []
    for r, leg, flow in g.nat_expect:
        # The SageMaker side is visible in the pkt-* address on legs 1 (pkt-srcaddr) and 4 (pkt-dstaddr);
        # legs 2 and 3 only carry the NAT's own private IP and the public peer.
        sm_ip = r["pkt-srcaddr"] if leg == "nat1" else r["pkt-dstaddr"] if leg == "nat4" else None
        typ, res = ("", "")
        if sm_ip is not None:
            typ, res = sm_attr(IP_TO_ENI[sm_ip]["name"], r["start"])
        rows.append({"flow": flow, "leg": leg[-1], "interface_id": r["interface-id"], "srcaddr": r["srcaddr"],
                     "dstaddr": r["dstaddr"], "srcport": r["srcport"], "dstport": r["dstport"],
                     "start": r["start"], "pkt_srcaddr": r["pkt-srcaddr"], "pkt_dstaddr": r["pkt-dstaddr"],
                     "flow_direction": r["flow-direction"], "sagemaker_resource_type": typ,
                     "sagemaker_resource": res})
    return rows


def counts_for(recs):
    by_action = {"ACCEPT": 0, "REJECT": 0, "null": 0}
    by_status = {"OK": 0, "NODATA": 0, "SKIPDATA": 0}
    by_dir = {"egress": 0, "ingress": 0, "null": 0}
    by_proto = {}
    for r in recs:
        by_action[r["action"] or "null"] += 1
        by_status[r["log-status"]] += 1
        by_dir[r["flow-direction"] or "null"] += 1
        k = "null" if r["protocol"] is None else str(r["protocol"])
        by_proto[k] = by_proto.get(k, 0) + 1
    return by_action, by_status, by_dir, dict(sorted(by_proto.items()))


# --------------------------------------------------------------------------------------
# Self-check: read the output back and apply the rules independently
# --------------------------------------------------------------------------------------

def read_text_shape(shape):
    out = []
    root = os.path.join(HERE, shape)
    for dp, dn, fn in os.walk(root):
        dn.sort()
        for f in sorted(fn):
            with open(os.path.join(dp, f), "rb") as fh:
                raw = fh.read()
            text = gzip.decompress(raw).decode()
            lines = text.splitlines()
            header = lines[0].split(" ")
            assert not lines[0][0].isdigit(), f
            for ln in lines[1:]:
                vals = ln.split(" ")
                assert len(vals) == len(header), (f, ln)
                r = {}
                for k, v in zip(header, vals):
                    if v == "-":
                        r[k] = None
                    elif k in INT32 or k in INT64:
                        r[k] = int(v)
                    else:
                        r[k] = v
                out.append(r)
    return out


def load_inventory():
    inv = os.path.join(HERE, "inventory")
    j = lambda p: json.load(open(os.path.join(inv, p)))  # noqa: E731
    return {
        "enis": j("describe-network-interfaces.json")["NetworkInterfaces"],
        "vpcs": j("describe-vpcs.json")["Vpcs"],
        "flow_logs": j("describe-flow-logs.json")["FlowLogs"],
        "pl": [e["Cidr"] for e in j("get-managed-prefix-list-entries-%s.json" % S3_PL_ID)["Entries"]],
        "nat": j("describe-nat-gateways.json")["NatGateways"],
        "vpce": j("describe-vpc-endpoints.json")["VpcEndpoints"],
        "rt": j("describe-route-tables.json")["RouteTables"],
        "nb": [j("sagemaker/" + f) for f in sorted(os.listdir(os.path.join(inv, "sagemaker")))
               if f.startswith("describe-notebook-instance")],
        "domains": [j("sagemaker/" + f) for f in sorted(os.listdir(os.path.join(inv, "sagemaker")))
                    if f.startswith("describe-domain")],
        "training": [j("sagemaker/" + f) for f in sorted(os.listdir(os.path.join(inv, "sagemaker")))
                     if f.startswith("describe-training-job")],
        "processing": [j("sagemaker/" + f) for f in sorted(os.listdir(os.path.join(inv, "sagemaker")))
                       if f.startswith("describe-processing-job")],
        "models": [j("sagemaker/" + f) for f in sorted(os.listdir(os.path.join(inv, "sagemaker")))
                   if f.startswith("describe-model-")],
        "epcs": [j("sagemaker/" + f) for f in sorted(os.listdir(os.path.join(inv, "sagemaker")))
                 if f.startswith("describe-endpoint-config-")],
        "eps": [j("sagemaker/" + f) for f in sorted(os.listdir(os.path.join(inv, "sagemaker")))
                if f.startswith("describe-endpoint-ep")],
        "trail": load_trail(),
    }


def parse_iso(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def load_trail():
    """ENI lifetimes from the CloudTrail files: id -> (ENI in describe shape, created, deleted)."""
    root = os.path.join(HERE, "inventory", "cloudtrail")
    out = {}
    for dp, dn, fn in os.walk(root):
        dn.sort()
        for f in sorted(fn):
            if "CloudTrail-Digest" in f:
                continue
            for r in json.loads(gzip.decompress(open(os.path.join(dp, f), "rb").read()))["Records"]:
                if r["eventSource"] != "ec2.amazonaws.com" or r.get("errorCode"):
                    continue
                t = parse_iso(r["eventTime"])
                if r["eventName"] == "CreateNetworkInterface":
                    n = r["responseElements"]["networkInterface"]
                    eni = {"NetworkInterfaceId": n["networkInterfaceId"], "SubnetId": n["subnetId"],
                           "VpcId": n["vpcId"], "Description": n["description"],
                           "InterfaceType": n.get("interfaceType", "interface"),
                           "RequesterManaged": n["requesterManaged"],
                           "Groups": [{"GroupId": g["groupId"]} for g in n["groupSet"]["items"]],
                           "PrivateIpAddresses": [{"PrivateIpAddress": p["privateIpAddress"]}
                                                  for p in n["privateIpAddressesSet"]["item"]],
                           "TagSet": []}
                    out[eni["NetworkInterfaceId"]] = [eni, t, None]
                elif r["eventName"] == "DeleteNetworkInterface":
                    out[r["requestParameters"]["networkInterfaceId"]][2] = t
    return out


def load_dns():
    """(vpc, answered address) -> [(time, client, name)] in time order, from the Resolver query logs."""
    out = {}
    root = os.path.join(HERE, "dns")
    for dp, dn, fn in os.walk(root):
        dn.sort()
        for f in sorted(fn):
            for ln in gzip.decompress(open(os.path.join(dp, f), "rb").read()).decode().splitlines():
                q = json.loads(ln)
                for a in q["answers"]:
                    if a["Type"] in ("A", "AAAA"):
                        out.setdefault((q["vpc_id"], a["Rdata"]), []).append(
                            (parse_iso(q["query_timestamp"]), q["srcaddr"], q["query_name"].rstrip(".")))
    for v in out.values():
        v.sort()
        assert len({t for t, _, _ in v}) == len(v), "query times are unique"
    return out


def dns_lookup(dns, vpc, local, remote, start):
    """The same client's latest answer with the remote address at or before start (a minute of skew), else
    any client's in the VPC."""
    before = [a for a in dns.get((vpc, remote), []) if a[0] <= start + 60]
    same = [a for a in before if a[1] == local]
    if same:
        return same[-1][2], "dns_same_client"
    if before:
        return before[-1][2], "dns_same_vpc"
    return None


def endpoint_hosts(inv):
    """vpc -> [(endpoint id, the service's default DNS name)] for interface endpoints."""
    out = {}
    for ep in inv["vpce"]:
        if ep["VpcEndpointType"] != "Interface":
            continue
        region_svc = ep["ServiceName"].split(".", 3)  # com, amazonaws, region, service
        host = ".".join(reversed(region_svc[3].split("."))) + "." + region_svc[2] + ".amazonaws.com"
        out.setdefault(ep["VpcId"], []).append((ep["VpcEndpointId"], host))
    return out


def all_enis(inv):
    """The described ENIs, then those CloudTrail knows that describe-network-interfaces no longer lists."""
    listed = {e["NetworkInterfaceId"] for e in inv["enis"]}
    return inv["enis"] + [v[0] for k, v in inv["trail"].items() if k not in listed]


def classify(inv):
    """ENI id -> list of (type, resource, from, to) candidates; 'aws-managed' for unattributed."""
    import re
    out = {}
    nb_by_eni = {n["NetworkInterfaceId"]: n["NotebookInstanceName"] for n in inv["nb"]}
    for e in all_enis(inv):
        eid = e["NetworkInterfaceId"]
        tags = {t["Key"]: t["Value"] for t in e["TagSet"]}
        sgs = {g["GroupId"] for g in e["Groups"]}
        if eid in nb_by_eni:
            out[eid] = [("notebook-instance", nb_by_eni[eid], None, None)]
            continue
        m = re.match(r"^\[DO NOT DELETE\] ENI managed by SageMaker for Studio Domain\((d-[a-z0-9]+)\)", e["Description"])
        if m:
            out[eid] = [("domain", m.group(1), None, None)]
            continue
        p = "[Do not delete] Network Interface created to access resources in your VPC for SageMaker Notebook Instance "
        if e["Description"].lower().startswith(p.lower()):
            out[eid] = [("notebook-instance", e["Description"][len(p):], None, None)]
            continue
        if "ManagedByAmazonSageMakerResource" in tags:
            parts = tags["ManagedByAmazonSageMakerResource"].split(":", 5)[5].split("/")
            if parts[0] == "node":
                out[eid] = [("user-profile", parts[1] + "/" + parts[2], None, None)]
            else:
                out[eid] = [(parts[0], parts[1], None, None)]
            continue
        if e["InterfaceType"] != "interface":
            continue  # vpc_endpoint, nat_gateway, efs: infrastructure, not SageMaker
        cands = []
        for t in inv["training"]:
            vc = t["VpcConfig"]
            if e["SubnetId"] in vc["Subnets"] and set(vc["SecurityGroupIds"]) <= sgs:
                cands.append(("training-job", t["TrainingJobName"], parse_iso(t["TrainingStartTime"]),
                              parse_iso(t["TrainingEndTime"])))
        for p_ in inv["processing"]:
            vc = p_["NetworkConfig"]["VpcConfig"]
            if e["SubnetId"] in vc["Subnets"] and set(vc["SecurityGroupIds"]) <= sgs:
                cands.append(("processing-job", p_["ProcessingJobName"], parse_iso(p_["ProcessingStartTime"]),
                              parse_iso(p_["ProcessingEndTime"])))
        for mo in inv["models"]:
            vc = mo["VpcConfig"]
            if e["SubnetId"] in vc["Subnets"] and set(vc["SecurityGroupIds"]) <= sgs:
                epcs = [c["EndpointConfigName"] for c in inv["epcs"]
                        if any(v["ModelName"] == mo["ModelName"] for v in c["ProductionVariants"])]
                for ep in inv["eps"]:
                    if ep["EndpointConfigName"] in epcs:
                        cands.append(("endpoint", ep["EndpointName"], None, None))
        if cands:
            out[eid] = cands
        elif e["RequesterManaged"] or e.get("Attachment", {}).get("AttachmentId", "").startswith("ela-attach-"):
            out[eid] = [("aws-managed", "", None, None)]
    return out


def attribute(cands, t):
    kinds = [c for c in cands if c[0] != "aws-managed"]
    if not kinds:
        return None
    timed = [c for c in kinds if c[2] is not None]
    if timed:
        hit = [c for c in timed if c[2] <= t < c[3]]
        return (hit[0][0], hit[0][1]) if hit else (timed[0][0], "")
    return kinds[0][0], kinds[0][1]


def apply_rules(recs, inv, shape, dns=None):
    """The findings, and (with dns) each SageMaker record's remote_name and remote_name_source."""
    cls = classify(inv)
    eni_by_id = {e["NetworkInterfaceId"]: e for e in all_enis(inv)}
    listed = {e["NetworkInterfaceId"] for e in inv["enis"]}
    endpoint_ips = {p["PrivateIpAddress"] for e in inv["enis"] if e["InterfaceType"] == "vpc_endpoint"
                    for p in e["PrivateIpAddresses"]}
    hosts = endpoint_hosts(inv)
    names = {}
    vpc_cidrs = [a["CidrBlock"] for v in inv["vpcs"] if v["VpcId"] == VPC_ID for a in v["CidrBlockAssociationSet"]]
    pl = inv["pl"]
    found = set()
    seen_unattr = set()
    for r in recs:
        eid = r["interface-id"]
        cands = cls.get(eid)
        if cands is None:
            continue
        if cands[0][0] == "aws-managed":
            seen_unattr.add(eid)
            continue
        if eid not in listed:  # known from CloudTrail: only while it existed (a minute of skew)
            _, created, deleted = inv["trail"][eid]
            if not (created - 60 <= r["start"] and (deleted is None or r["start"] <= deleted + 60)):
                continue
        typ, res = attribute(cands, r["start"])
        base = (eid, r["srcaddr"] or "", r["dstaddr"] or "", fmt_opt(r["srcport"]), fmt_opt(r["dstport"]),
                fmt_opt(r["protocol"]), str(r["start"]), r["action"] or "", typ, res)
        if r["log-status"] != "OK":
            if r["log-status"] == "SKIPDATA":
                found.add(("log-gaps",) + base)
            continue
        own = {p["PrivateIpAddress"] for p in eni_by_id[eid]["PrivateIpAddresses"]}
        if "flow-direction" in r:
            egress = r["flow-direction"] == "egress"
        else:
            egress = r["srcaddr"] in own
        remote = r["dstaddr"] if egress else r["srcaddr"]
        in_vpc = in_any(remote, vpc_cidrs)
        in_pl = in_any(remote, pl)
        private_other = is_private(remote) and not in_vpc
        public = not is_private(remote)
        path = r.get("traffic-path")
        via_igw_contradiction = in_pl and egress and path == 8
        is_aws = aws_service(remote) is not None
        if dns is not None:
            vpc = r.get("vpc-id") or eni_by_id[eid]["VpcId"]
            local = (r.get("pkt-srcaddr") or r["srcaddr"]) if egress else (r.get("pkt-dstaddr") or r["dstaddr"])
            remote_pkt = (r.get("pkt-dstaddr") or r["dstaddr"]) if egress else (r.get("pkt-srcaddr") or r["srcaddr"])
            named = dns_lookup(dns, vpc, local, remote_pkt, r["start"])
            if named is not None:
                names[base[:7]] = named
                served = [vid for vid, h in hosts.get(vpc, []) if named[0] == h or named[0].endswith("." + h)]
                if egress and served and remote_pkt not in endpoint_ips:
                    found.add(("private-dns-bypass",) + base)
        if r["action"] == "REJECT":
            if egress:
                found.add(("rejected-sagemaker-egress",) + base)
            continue
        if private_other or (public and not in_pl) or via_igw_contradiction:
            found.add(("leaves-vpc",) + base)
        if egress and public and is_aws and (not in_pl or via_igw_contradiction):
            found.add(("endpoint-bypass",) + base)
        if (not egress) and public and not in_pl and r["dstport"] < r["srcport"]:
            found.add(("internet-ingress",) + base)
    if dns is not None:
        # A resolution to a public address of an endpoint-served name that no egress of the asking ENI to
        # that address followed (a minute of skew).
        holder = {}
        for e in all_enis(inv):
            for p in e["PrivateIpAddresses"]:
                holder.setdefault(p["PrivateIpAddress"], []).append(e["NetworkInterfaceId"])
        egress_to = {}
        for r in recs:
            if r["log-status"] == "OK" and r["interface-id"] in cls:
                own = {p["PrivateIpAddress"] for p in eni_by_id[r["interface-id"]]["PrivateIpAddresses"]}
                out = r["flow-direction"] == "egress" if "flow-direction" in r else r["srcaddr"] in own
                if out:
                    egress_to.setdefault((r["interface-id"], r.get("pkt-dstaddr") or r["dstaddr"]), []).append(r["start"])
        for (vpc, addr), answers in dns.items():
            for t, client, name in answers:
                served = [v for v, h in hosts.get(vpc, []) if name == h or name.endswith("." + h)]
                if not served or addr in endpoint_ips:
                    continue
                for eid in holder.get(client, []):
                    cands = cls.get(eid)
                    if not cands or cands[0][0] == "aws-managed":
                        continue
                    if any(s >= t - 60 for s in egress_to.get((eid, addr), [])):
                        continue
                    typ, res = attribute(cands, t)
                    found.add(("private-dns-bypass", eid, client, addr, "", "", "", str(int(t)), "", typ, res))
    for eid in seen_unattr:
        found.add(("unattributed-aws-managed-enis", eid, "", "", "", "", "", "", "", "aws-managed", ""))
    # blind spots (inventory only)
    logged_vpcs = {f["ResourceId"] for f in inv["flow_logs"]}
    for n in inv["nb"]:
        if n["DirectInternetAccess"] == "Enabled":
            found.add(("blind-spots", "", "", "", "", "", "", "", "", "notebook-instance", n["NotebookInstanceName"]))
    for d in inv["domains"]:
        if d["AppNetworkAccessType"] == "PublicInternetOnly":
            found.add(("blind-spots", "", "", "", "", "", "", "", "", "domain", d["DomainId"]))
    for e in inv["enis"]:
        if e["VpcId"] not in logged_vpcs and e["NetworkInterfaceId"] in cls:
            typ, res = attribute(cls[e["NetworkInterfaceId"]], 0) or ("", "")
            found.add(("blind-spots", e["NetworkInterfaceId"], "", "", "", "", "", "", "", typ, res))
    return (found, names) if dns is not None else found


def self_check(findings, totals, dns_expect):
    """Checks the rules against expected/findings.csv; returns the names of each text shape's records."""
    inv = load_inventory()
    dns = load_dns()
    exp_cols = FINDING_COLS[:-1]
    names = {}
    for shape, tag in (("v2-default", "v2"), ("v5-custom", "v5")):
        recs = read_text_shape(shape)
        assert len(recs) == totals[shape], (shape, len(recs), totals[shape])
        keys = [(r["interface-id"], r["srcaddr"], r["dstaddr"], r["srcport"], r["dstport"], r["start"],
                 r["log-status"]) for r in recs]
        assert len(keys) == len(set(keys)), "duplicate record key in " + shape
        got, names[tag] = apply_rules(recs, inv, shape, dns)
        want = {tuple(f[c] for c in exp_cols) for f in findings if tag in f["shapes"].split(",")}
        if got != want:
            for x in sorted(got - want):
                print("UNEXPECTED", shape, x, file=sys.stderr)
            for x in sorted(want - got):
                print("MISSING", shape, x, file=sys.stderr)
            raise SystemExit("self-check failed for " + shape)
    # Every flow the generator made a query for is named from that query's client in v5, which has the
    # packet's own source address (v2 shows the ENI's primary address for a secondary IP's traffic).
    for r, name in dns_expect:
        if r["_eni"] not in SAGEMAKER_ENIS:
            continue  # names are checked on SageMaker ENIs' records
        k = (r["interface-id"], r["srcaddr"], r["dstaddr"], fmt_opt(r["srcport"]), fmt_opt(r["dstport"]),
             fmt_opt(r["protocol"]), str(r["start"]))
        assert names["v5"].get(k) == (name, "dns_same_client"), (k, name, names["v5"].get(k))
    import pyarrow.parquet as pq
    pqf = [os.path.join(dp, f) for dp, _, fn in os.walk(os.path.join(HERE, "parquet-hive")) for f in fn]
    t = pq.read_table(pqf[0])
    recs = []
    for row in t.to_pylist():
        recs.append({k.replace("_", "-"): v for k, v in row.items()})
    assert len(recs) == totals["parquet-hive"]
    got = apply_rules(recs, inv, "parquet")
    want = {tuple(f[c] for c in exp_cols) for f in findings if "parquet" in f["shapes"].split(",")}
    assert got == want, (sorted(got - want), sorted(want - got))
    meta = pq.ParquetFile(pqf[0]).metadata
    for i in range(meta.num_columns):
        assert meta.row_group(0).column(i).compression == "GZIP"
    print("self-check OK: rules reproduce expected/findings.csv on v2, v5 and parquet")
    return names


# --------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------

ENI_ROLE = {
    "NB": "notebook instance nb-analyst (DirectInternetAccess Disabled); join via DescribeNotebookInstance.NetworkInterfaceId",
    "NB-LEGACY": "notebook instance nb-legacy; known only from the ENI Description (no describe-notebook-instance doc)",
    "NB-PUBLIC": "notebook instance nb-public (DirectInternetAccess Enabled); VPC-internal traffic only",
    "STUDIO-1": "Studio app ENI of domain d-sample12345 (Description); SGs incl. security-group-for-outbound-nfs-d-sample12345",
    "STUDIO-ALICE": "Studio app ENI, no Description; tag ManagedByAmazonSageMakerResource -> user profile alice of d-sample12345",
    "TRAIN": "requester-managed, ela-attach, SG sg-0train0000000001 -> train-a 10:00-10:40, train-b 11:00-11:40 (train-b reuses train-a's warm pool); secondary IP 10.20.1.31",
    "PROC": "requester-managed, SG sg-0proc00000000001 in subnet-0sm000000000000c3 (secondary CIDR) -> processing job proc-1",
    "EP": "requester-managed, SG sg-0model0000000001 -> model-x -> epc-x -> endpoint ep-x",
    "VPCE-API": "interface endpoint %s com.amazonaws.us-east-1.sagemaker.api" % VPCE_API,
    "VPCE-RUNTIME": "interface endpoint %s com.amazonaws.us-east-1.sagemaker.runtime" % VPCE_RUNTIME,
    "VPCE-STS": "interface endpoint %s com.amazonaws.us-east-1.sts" % VPCE_STS,
    "NAT": "NAT gateway %s (public IP %s)" % (NAT_ID, NAT_PUBLIC_IP),
    "EC2": "ordinary EC2 instance %s (eni-attach); not SageMaker" % ENIS["EC2"]["instance"],
    "EFS": "EFS mount target of %s (Studio home file system of d-sample12345)" % EFS_ID,
    "ORPHAN": "requester-managed, ela-attach, SG sg-0other0000000001 matching no job/model (left over from a deleted endpoint)",
    "STUDIO-PUB": "Studio app ENI of d-public0000 in %s, which has no flow log (no traffic anywhere)" % VPC2_ID,
    "TRAIN-C": "**deleted**: not in describe-network-interfaces. CloudTrail: created 11:43:12 by SageMaker "
               "(execution role, invokedBy sagemaker.amazonaws.com), deleted 11:56:40; requester-managed, SG "
               "%s -> training job train-c 11:45-11:55" % SG["trainc"][0],
}

FLOW_DOC = [
    ("(a)", "leaves-vpc", "TRAIN (train-a) egress 10.20.1.30:48211 -> 203.0.113.50:443 at 10:22:07 through the NAT "
     "gateway, and its reply. The NAT ENI carries the four NAT legs (see nat-attribution.csv)."),
    ("(b)", "leaves-vpc", "PROC (proc-1) egress 10.21.1.30:39950 -> 172.31.40.10:5432 at 10:31:12 over the VPC "
     "peering %s (traffic-path 4 in v5), and its reply. Remote class: private, not in the VPC." % PCX_ID),
    ("(c)", "leaves-vpc + endpoint-bypass", "STUDIO-ALICE egress 10.20.1.21:52877 -> 54.239.29.17:443 (ip-ranges "
     "AMAZON) at 11:07:40 through the NAT gateway; the reply is leaves-vpc only. The DNS log says alice asked "
     "for `sts.amazonaws.com` (the global STS endpoint, which the regional sts interface endpoint does not "
     "serve): remote_name, not private-dns-bypass."),
    ("(d)", "endpoint-bypass + leaves-vpc, v5 only", "TRAIN (train-b) egress 10.20.1.30:44102 -> 52.217.44.196:443 "
     "at 11:12:03. 52.217.44.196 is in pl-63a5400a (52.216.0.0/15) so the gateway endpoint should carry it, but "
     "the v5 record says traffic-path 8 (internet gateway). The v2 record is identical minus traffic-path, so v2 "
     "assumes the gateway endpoint and reports nothing. The reply (ingress, no traffic-path) is not labelled."),
    ("(e)", "leaves-vpc + endpoint-bypass", "NB (nb-analyst) egress 10.20.1.10:57719 -> 54.240.217.13:443 (AMAZON) "
     "at 11:20:26 through the NAT gateway, i.e. sagemaker.api called publicly although %s exists; reply is "
     "leaves-vpc only. With `--dns`: also **private-dns-bypass**, since nb-analyst resolved "
     "`api.sagemaker.us-east-1.amazonaws.com` (through a CNAME) to 54.240.217.13 at 11:20:26." % VPCE_API),
    ("(f)", "internet-ingress + leaves-vpc", "EP (ep-x) ingress 198.51.100.23:51515 -> 10.20.2.40:8080 at "
     "11:41:02; the egress reply 10.20.2.40:8080 -> 198.51.100.23:51515 is leaves-vpc only."),
    ("(g)", "rejected-sagemaker-egress", "PROC REJECT egress 10.21.1.30:41822 -> 198.51.100.99:22 at 10:48:33 "
     "(3 SYNs) and NB-LEGACY REJECT egress 10.20.2.10:53533 -> 8.8.8.8:53/UDP at 11:03:51. Not leaves-vpc."),
    ("(h)", "log-gaps", "SKIPDATA on TRAIN at 10:17:09 (train-a). NODATA on STUDIO-1 at 11:31:04 (the ENI has no "
     "other record in the 11:30 window) is not a finding: AWS writes NODATA for a window without traffic."),
    ("(i)", "unattributed-aws-managed-enis", "ORPHAN %s: ACCEPT traffic to VPCE-API 10.20.1.100:443, listed once."
     % ENIS["ORPHAN"]["id"]),
    ("(l)", "private-dns-bypass, with `--dns` only", "STUDIO-1 (d-sample12345) resolved "
     "`runtime.sagemaker.us-east-1.amazonaws.com` to 54.239.28.85 at 11:36:40 and never connected to it: a "
     "finding from the DNS log alone (no ports, `remote_name_source` dns_query, `source_object`/`source_line` the "
     "query-log line)."),
    ("(k)", "leaves-vpc", "TRAIN-C (train-c, a **deleted** ENI known only from CloudTrail) egress "
     "10.20.2.31:51874 -> 203.0.113.77:443 at 11:47:19 through the NAT gateway, and its reply; the DNS log names "
     "it `repo.example.net` (after an NXDOMAIN for `mirror.internal.example`). Without the CloudTrail files "
     "the ENI is unknown: v2 cannot attribute its records, and v5's subnet-id and time fit both ep-x and "
     "train-c, so no job is named."),
    ("(j)", "blind-spots", "from the inventory only: nb-public (DirectInternetAccess Enabled), d-public0000 "
     "(PublicInternetOnly), and STUDIO-PUB %s in %s, which no flow log covers." % (ENIS["STUDIO-PUB"]["id"], VPC2_ID)),
]


def write_readme(files, members, totals, counts, findings, pq_rel, nrows_by_rule, trail_files, dns_files,
                 name_rows):
    L = []
    a = L.append
    a("# sageflow sample dataset")
    a("")
    a("Synthetic but realistically shaped Amazon VPC Flow Logs, AWS CLI inventory and ground truth for testing "
      "sageflow. **Everything here is generated by `generate.py`; do not edit by hand** (this README too).")
    a("")
    a("```")
    a("python3 -m venv /tmp/v && /tmp/v/bin/pip install pyarrow==%s && /tmp/v/bin/python sample-logs/generate.py"
      % PYARROW_PIN)
    a("```")
    a("")
    a("The script uses the Python 3.11 standard library plus pyarrow %s (only for the Parquet object), a fixed "
      "seed (%d), gzip with mtime=0 and no file name, and is byte-for-byte reproducible. After writing it reads "
      "everything back and runs an independent reference implementation of the rules below; it fails if the "
      "result differs from `expected/findings.csv`." % (PYARROW_PIN, SEED))
    a("")
    a("## Account and network (us-east-1, account %s)" % ACCOUNT)
    a("")
    a("* VPC `%s`: CIDRs %s (the second one is a secondary association in `CidrBlockAssociationSet`), IPv6 `%s`."
      % (VPC_ID, ", ".join("`%s`" % c for c in VPC_CIDRS), VPC_IPV6))
    a("* Subnets: `%s` 10.20.0.0/24 public (0.0.0.0/0 -> `%s`); `%s` 10.20.1.0/24, `%s` 10.20.2.0/24 and "
      "`%s` 10.21.1.0/24 private (route table `%s`: 0.0.0.0/0 -> `%s`, `%s` -> gateway endpoint `%s`, "
      "%s -> peering `%s`)." % (SUB_PUB, IGW_ID, SUB_A, SUB_B, SUB_C, RTB_PRIVATE, NAT_ID, S3_PL_ID, VPCE_S3,
                                PEER_CIDR, PCX_ID))
    a("* `%s` (S3, OwnerId AWS) entries: %s (real us-east-1 S3 prefixes from ip-ranges.json, createDate "
      "2026-08-22-21-17-05)." % (S3_PL_ID, ", ".join("`%s`" % c for c in S3_PL_ENTRIES)))
    a("* Interface endpoints: `%s` sagemaker.api, `%s` sagemaker.runtime, `%s` sts (no logs endpoint). "
      "Gateway endpoint `%s` (S3) on `%s`." % (VPCE_API, VPCE_RUNTIME, VPCE_STS, VPCE_S3, RTB_PRIVATE))
    a("* Second VPC `%s` (%s) has **no flow log**; it only holds the d-public0000 Studio ENI." % (VPC2_ID, VPC2_CIDR))
    a("* Flow logs (all on `%s`, destination S3 bucket `%s`): `%s` default format -> `v2-default/`; `%s` v5 "
      "custom, hourly partitions -> `v5-custom/`; `%s` Parquet, Hive + hourly -> `parquet-hive/`."
      % (VPC_ID, BUCKET, FL_V2, FL_V5, FL_PQ))
    a("")
    a("### ENIs")
    a("")
    a("| name | ENI | private IPv4 | subnet | InterfaceType | owner / role |")
    a("|---|---|---|---|---|---|")
    for n, e in ENIS.items():
        a("| %s | `%s` | %s | `%s` | %s | %s |" % (n, e["id"], ", ".join(e["ips"]), e["subnet"], e["itype"],
                                                 ENI_ROLE[n]))
    a("")
    a("SageMaker resources: notebook instances nb-analyst, nb-public (+ nb-legacy, ENI only); Studio domains "
      "d-sample12345 (VpcOnly) and d-public0000 (PublicInternetOnly); training jobs train-a "
      "(10:00-10:40Z) and train-b (11:00-11:40Z), both with SG `sg-0train0000000001` and subnets a1+b2, i.e. "
      "both match the TRAIN ENI, which is attributed **by time** (train-b reuses train-a's managed warm pool, "
      "`WarmPoolStatus.ReusedByJob`, so the ENI attached for train-a is train-b's too); TRAIN traffic at 10:45-10:55, "
      "between the two, is train-a's (its warm pool keeps its instance, and the ENI, until train-b reuses it); training job train-c (11:45-11:55Z) on the deleted TRAIN-C ENI (below, "
      "\"CloudTrail\"); processing job proc-1 (10:00-12:00Z); model-x -> epc-x -> ep-x. "
      "`expected/eni-attribution.csv` lists the expected classification of every ENI.")
    a("")
    a("## Layout")
    a("")
    a("```")
    a("v2-default/AWSLogs/%s/vpcflowlogs/us-east-1/2026/11/20/<acct>_vpcflowlogs_us-east-1_%s_20261120T1000Z_<8hex>.log.gz   (24 files)" % (ACCOUNT, FL_V2))
    a("v5-custom/AWSLogs/%s/vpcflowlogs/us-east-1/2026/11/20/{10,11}/<acct>_vpcflowlogs_us-east-1_%s_<ts>_<8hex>.log.gz (24 files)" % (ACCOUNT, FL_V5))
    a(pq_rel)
    a("inventory/        AWS CLI v2 JSON output (describe-*, get-managed-prefix-list-entries, sagemaker/describe-*)")
    a("inventory/cloudtrail/AWSLogs/%s/CloudTrail/us-east-1/2026/11/20/<acct>_CloudTrail_us-east-1_<ts>_<16hex>.json.gz (%d files)"
      % (ACCOUNT, len(trail_files) - 1))
    a("inventory/cloudtrail/AWSLogs/%s/CloudTrail-Digest/us-east-1/2026/11/20/...json.gz   (a digest: skipped by readers)"
      % ACCOUNT)
    a("dns/AWSLogs/%s/vpcdnsquerylogs/%s/2026/11/20/<acct>_vpcdnsquerylogs_us-east-1_<ts>_<8hex>.log.gz (%d files)"
      % (ACCOUNT, VPC_ID, len(dns_files)))
    a("expected/         findings.csv, nat-attribution.csv, eni-attribution.csv, dns-names.csv, counts.json")
    a("```")
    a("")
    a("* Text files: gzip, first line is the header (hyphenated field names), one file per 5-minute window "
      "2026-11-20T10:00Z..11:55Z; the file-name timestamp is the window start; every record's `start` and `end` "
      "lie inside the window (60-s aggregation, `end - start` < 60).")
    a("* `%s` is a **multi-member gzip**: two gzip members concatenated, the second starts mid-file without a "
      "header line. Readers must decode all members." % [f for f, _ in files["v2-default"] if wlabel(MULTI_MEMBER_W) in f][0])
    a("* v2 and v5 contain exactly the same records (same flows, times, byte counts, same order); v5 only adds "
      "fields. `version` is 2 resp. 5.")
    a("* Parquet: one object, %d rows of background traffic 2026-11-21 09:00-09:05Z (same ENIs; no TRAIN, PROC, "
      "ORPHAN traffic since no job runs then). Columns use underscores; INT32 version/srcport/dstport/protocol/"
      "tcp_flags/traffic_path, INT64 packets/bytes/start/end, STRING (UTF8) the rest; gzip pages; NULL wherever "
      "text would have `-`; written without the Arrow schema blob." % totals["parquet-hive"])
    a("")
    a("## CloudTrail: the deleted training job")
    a("")
    a("The inventory was taken after train-c (11:45-11:55Z) ended, so its ENI `%s` (10.20.2.31) is not in "
      "`describe-network-interfaces.json`; `sagemaker/describe-training-job-train-c.json` still describes the job "
      "(SG `%s`, subnet `%s`). The trail's files under `inventory/cloudtrail/` hold the job's "
      "`CreateTrainingJob`, a `CreateNetworkInterface` DryRun (`errorCode` Client.DryRunOperation: not an ENI), "
      "the real `CreateNetworkInterface` at 11:43:12 (`responseElements.networkInterface` with the address, "
      "subnet, security group; the creating principal is the execution role, `invokedBy` "
      "sagemaker.amazonaws.com), a `DescribeNetworkInterfaces`, and `DeleteNetworkInterface` at 11:56:40. The "
      "ENI's lifetime 11:43:12-11:56:40 holds all its records, so they are attributed to train-c by VpcConfig "
      "and time (`attribution = 'eni_history'`), and so are the NAT gateway's legs of (k). Record shapes follow "
      "the CloudTrail User Guide and the EFS User Guide's CreateNetworkInterface example (see "
      "`tests/data/cloudtrail/README.md`). A digest file sits where CloudTrail writes them and must be skipped."
      % (ENIS["TRAIN-C"]["id"], SG["trainc"][0], ENIS["TRAIN-C"]["subnet"]))
    a("")
    a("## DNS: Route 53 Resolver query logs")
    a("")
    a("`dns/` holds the VPC's Resolver query logs as delivered to S3 (NDJSON, gzip, one object per 5-minute "
      "window; version `1.100000`, `query_name` with its trailing dot, `srcport` as a string, `answers` with "
      "`Rdata`/`Type`/`Class`, `srcids.instance` for the EC2 instance only). Queries are made by the workloads "
      "just before they connect, from the packet's own source address, and again only when their own cache "
      "(%d s) no longer holds the answer:" % CLIENT_CACHE_SECS)
    a("")
    a("* the sts interface endpoint has private DNS on: `sts.us-east-1.amazonaws.com` answers 10.20.1.101;")
    a("* a Resolver forwarding rule sends `sagemaker.us-east-1.amazonaws.com` to an on-premises resolver, which "
      "takes precedence over the sagemaker.api/runtime endpoints' private DNS, so the platform's clients use "
      "the endpoints' own `vpce-...vpce.amazonaws.com` names (answered with 10.20.1.100 / 10.20.2.100); "
      "nb-analyst asked for the default name once and got a public address (e) (private-dns-bypass);")
    a("* S3 bucket names resolve through the CNAME `%s` to the S3 addresses the flows use;" % S3_CNAME)
    a("* alice's `sts.amazonaws.com` (c) has an AAAA query answered with no record (NOERROR, no answers); "
      "train-c's NXDOMAIN for `mirror.internal.example` has no answers;")
    a("* Studio (STUDIO-1) asked for `runtime.sagemaker.us-east-1.amazonaws.com` at 11:36:40, got the public "
      "54.239.28.85 through the forwarding rule and never connected to it (l): private-dns-bypass from the DNS "
      "log alone;")
    a("* processing job proc-1 never queries (its JVM resolved everything before the logs start), so its "
      "records are named from other clients' answers (`dns_same_vpc`) or not at all; NFS to EFS and traffic "
      "between ENIs by address are not named.")
    a("")
    by_src = {}
    for r in name_rows:
        k = (r["remote_name_source"], r["shapes"])
        by_src[k] = by_src.get(k, 0) + 1
    a("`expected/dns-names.csv` lists, per shape, every record of a SageMaker ENI that has a `remote_name` "
      "(%d rows: %s), from the reference implementation: the same client's latest answer with the remote "
      "address at or before the record's start plus one minute, else any client's in the VPC. In v2 a "
      "secondary IP's traffic shows the ENI's primary address, so those records are named `dns_same_vpc` "
      "(v5 has pkt-srcaddr)." % (len(name_rows), ", ".join("%s in %s: %d" % (a_, b_, n) for (a_, b_), n in
                                                          sorted(by_src.items()))))
    a("")
    a("## Record counts")
    a("")
    a("| shape | files | gzip members | records (excl. headers) | ACCEPT | REJECT | null action (NODATA/SKIPDATA) |")
    a("|---|---|---|---|---|---|---|")
    for shape in ("v2-default", "v5-custom", "parquet-hive"):
        c = counts[shape]
        a("| %s | %d | %s | %d | %d | %d | %d |" % (shape, c["files"], c.get("gzip_members", "-"), c["records"],
                                                  c["by_action"]["ACCEPT"], c["by_action"]["REJECT"],
                                                  c["by_action"]["null"]))
    a("")
    a("Details (per log-status, flow-direction, protocol) are in `expected/counts.json`.")
    a("")
    a("## How records were made")
    a("")
    a("* Records are per ENI and per direction. A flow between two ENIs of the VPC appears on each of them "
      "(same srcaddr/dstaddr, different interface-id); request and reply are separate records.")
    a("* v5 fields: `flow-direction` relative to the capturing ENI; `traffic-path` only on egress: 1 next hop in "
      "the VPC (other ENI, interface endpoint, NAT gateway ENI), 4 peering, 7 S3 gateway endpoint, 8 internet "
      "gateway (NAT ENI's leg to the internet, and the deliberate (d)/(f) records); `instance-id` only on the "
      "EC2 ENI; `tcp-flags` 3/19 (SYN+FIN / SYN-ACK+FIN) for short connections, 0 for long-lived ones "
      "(NFS, Jupyter, some S3 transfers) and for UDP/ICMP, 2 for rejected SYNs; `pkt-*aws-service` from "
      "ip-ranges.json (S3 for the S3 addresses, AMAZON for 54.239.16.0/20 and 54.240.216.0/22).")
    a("* NAT gateway: the workload ENI shows the real public destination; the NAT ENI shows four legs "
      "(instance -> NAT with pkt-dstaddr = destination; NAT -> internet; internet -> NAT; NAT -> instance with "
      "pkt-srcaddr = remote). The EC2 instance's internet traffic (203.0.113.0/24) produces such legs too.")
    a("* Secondary IP: train-a's second container uses 10.20.1.31. On the TRAIN ENI those records show the "
      "primary 10.20.1.30 in srcaddr/dstaddr and 10.20.1.31 in pkt-srcaddr/pkt-dstaddr; on the endpoint ENI "
      "they show 10.20.1.31 as srcaddr/dstaddr (index every `PrivateIpAddresses[]` entry).")
    a("* NODATA/SKIPDATA records: `version account-id interface-id` and `start end log-status` set, everything "
      "else `-` (as in the AWS examples, start/end are filled). Background NODATA appears only on the sagemaker.runtime "
      "and sts endpoint ENIs in idle windows (never on SageMaker ENIs, nor on the Studio EFS mount target, which "
      "a classifier keyed on `security-group-for-inbound-nfs-*` may treat as SageMaker).")
    a("* Background SageMaker ENIs talk only to VPC addresses (interface endpoints, EFS, each other, EC2) and to "
      "S3 prefix-list addresses through the gateway endpoint (traffic-path 7). Background REJECTs: EC2 SMTP "
      "egress, and EC2->EP:22 / NB-PUBLIC->EC2:22 rejected at the destination SG (ingress REJECT, no finding).")
    a("")
    a("## Rules and labelled flows (`expected/findings.csv`)")
    a("")
    a("Columns: `%s`. One row per (rule, record); a record that triggers two rules has two rows. `shapes` says "
      "in which shapes the row is expected when that shape is scanned alone together with `inventory/`. "
      "Every labelled flow is unique by (interface_id, srcaddr, dstaddr, srcport, dstport, start). `start` is "
      "Unix seconds. Rows for ENI-level or inventory-level rules leave the record columns empty."
      % ",".join(FINDING_COLS))
    a("")
    a("Rule definitions used to build the truth (all on ENIs classified as SageMaker, log-status OK unless said):")
    a("")
    a("* **leaves-vpc**: ACCEPT, either direction, the remote address (dstaddr on egress, srcaddr on ingress) is "
      "outside the VPC CIDRs and not reached through an endpoint: public and not in `%s`, or private but outside "
      "the VPC (peering), or in the prefix list with v5 `traffic-path` 8 on egress. Ingress records carry no "
      "traffic-path, so an ingress from a prefix-list address is assumed to come through the gateway endpoint." % S3_PL_ID)
    a("* **endpoint-bypass**: ACCEPT egress to a public AWS address (any ip-ranges.json service) that is not in the "
      "gateway-endpoint prefix list, or is in it but v5 says traffic-path 8. Egress only.")
    a("* **internet-ingress**: ACCEPT ingress from a public address outside the prefix list where the SageMaker "
      "side is the server (dstport < srcport). Replies to SageMaker-initiated connections (srcport 443 -> "
      "ephemeral dstport) are therefore not internet-ingress; they are leaves-vpc. In v5 the SYN in tcp-flags "
      "(3) confirms it.")
    a("* **rejected-sagemaker-egress**: REJECT egress. Not leaves-vpc.")
    a("* **private-dns-bypass** (needs `--dns dns`): egress whose remote address the DNS log names with a name "
      "one of the VPC's interface endpoints serves (`api.sagemaker.<region>.amazonaws.com`, `sts.<region>...`, "
      "or a name under it), to an address that is not an interface endpoint's; and such a resolution by a "
      "SageMaker ENI that no egress of it to the answered address followed (one row, `start` = the query time, "
      "record columns otherwise empty).")
    a("* **log-gaps**: SKIPDATA records on SageMaker ENIs (NODATA, no traffic in the window, is not a gap).")
    a("* **unattributed-aws-managed-enis**: ENIs of InterfaceType `interface` that are requester-managed or have "
      "an `ela-attach-` attachment, match no notebook/Studio/job/model, and have records in the scanned logs. "
      "Endpoint, NAT and EFS ENIs are known infrastructure and excluded. One row per ENI.")
    a("* **blind-spots**: inventory only: notebooks with DirectInternetAccess Enabled, domains with "
      "PublicInternetOnly, SageMaker ENIs in a VPC no flow log covers (this row carries `interface_id`).")
    a("")
    a("| id | rule(s) | what |")
    a("|---|---|---|")
    for fid, rule, text in FLOW_DOC:
        a("| %s | %s | %s |" % (fid, rule, text))
    a("")
    a("Rows per rule: " + ", ".join("%s %d" % (k, v) for k, v in nrows_by_rule.items()) + ".")
    a("")
    a("`expected/nat-attribution.csv` lists the NAT-ENI legs of (a), (c), (e) and (k), which are *not* in "
      "findings.csv. Leg 1 (instance -> NAT) and leg 4 (NAT -> instance) carry the SageMaker address in "
      "pkt-srcaddr/pkt-dstaddr (and in srcaddr/dstaddr), so in v5 they can be attributed to the SageMaker "
      "resource in the last columns and, with pkt-dstaddr/pkt-srcaddr, to the public peer. Legs 2 and 3 carry "
      "only the NAT's private IP and the public peer, so their expected resource is empty. In v2 the NAT ENI "
      "records never show the public peer next to the SageMaker address.")
    a("")
    a("## Deliberate oddities (things a reader should not \"fix\")")
    a("")
    a("* (d) and (f) are not routable with the route tables as given (private subnets have no IGW route, EP has "
      "no public IP). They exist to exercise the rules on what the logs say; the engine should judge records, "
      "not re-derive routing.")
    a("* Two training jobs share one ENI; attribution is by time.")
    a("* 203.0.113.0/24 and 198.51.100.0/24 (RFC 5737 documentation ranges) stand for internet hosts and must be "
      "classified as public internet (careful: Python's `ipaddress.is_private` calls them private; Rust's "
      "`Ipv4Addr::is_private` is RFC 1918 only). 8.8.8.8 is public and not in ip-ranges.json; 172.31.40.10 is "
      "RFC 1918 in the peered VPC.")
    a("* `account-id` is always %s (never the literal `unknown` some AWS-created ENIs can show)." % ACCOUNT)
    a("* The traffic-path values on the NAT ENI (8 towards the internet, 1 back to the instance) and on the "
      "workload ENI towards the NAT (1) are assumptions; AWS does not document them.")
    a("* ICMP records use srcport/dstport 0.")
    a("* Requester IDs of SageMaker/NAT/EFS ENIs (`%s`, `%s`, `%s`) are placeholders: no public capture of the "
      "real values exists. Only `727180483921` (interface endpoints) is documented." % (SM_REQUESTER, NAT_REQUESTER,
                                                                                        EFS_REQUESTER))
    a("* SageMaker timestamps carry milliseconds (`2026-11-20T10:00:00.318000+00:00`) as the CLI prints them; "
      "EC2 timestamps are second-precision (`+00:00`).")
    write(os.path.join(HERE, "README.md"), ("\n".join(L) + "\n").encode())


# --------------------------------------------------------------------------------------

def check_ip_ranges(path):
    d = json.load(open(path))
    P = [(ipaddress.ip_network(p["ip_prefix"]), p["service"]) for p in d["prefixes"]]
    ips = S3_IPS + [S3_IP_BYPASS, AMAZON_IP_ALICE, AMAZON_IP_NB, AMAZON_IP_RUNTIME, INTERNET_TRAIN_C, INTERNET_TRAIN, PEER_HOST, INTERNET_CLIENT,
                    INTERNET_SSH, GOOGLE_DNS, EC2_NTP, EC2_SMTP] + EC2_INTERNET
    for ip in ips:
        a = ipaddress.ip_address(ip)
        m = [(n.prefixlen, s) for n, s in P if a in n]
        want = None
        if m:
            top = max(x[0] for x in m)
            codes = {s for l_, s in m if l_ == top}
            specific = codes - {"AMAZON"}
            assert len(specific) <= 1, (ip, codes)
            want = specific.pop() if specific else "AMAZON"
        assert aws_service(ip) == want, (ip, aws_service(ip), want)
    for c in S3_PL_ENTRIES:
        assert any(str(n) == c and s == "S3" for n, s in P), c
    print("ip-ranges check OK")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check-ip-ranges", metavar="PATH")
    args = ap.parse_args()
    if args.check_ip_ranges:
        check_ip_ranges(args.check_ip_ranges)
    for d in ("v2-default", "v5-custom", "parquet-hive", "inventory", "dns", "expected"):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)

    g = build_text_traffic()
    files, members = write_text_shapes(g.records)
    pg = build_parquet_traffic()
    pq_rel, pq_n = write_parquet(pg.records)
    write_inventory()
    trail_files = write_cloudtrail()
    dns_files = write_dns(dns_queries(g))

    findings = [finding_row(r, rule, shapes) for r, rule, shapes in g.labels] + static_findings()
    findings.append(dict({c: "" for c in FINDING_COLS}, rule="private-dns-bypass", interface_id=ENIS["STUDIO-1"]["id"],
                         srcaddr=ENIS["STUDIO-1"]["ip"], dstaddr=AMAZON_IP_RUNTIME, start=str(RESOLVED_ONLY_AT),
                         sagemaker_resource_type="domain", sagemaker_resource="d-sample12345", shapes="v2,v5"))
    findings = sort_findings(findings)
    write_csv("expected/findings.csv", FINDING_COLS, findings)
    write_csv("expected/nat-attribution.csv", NAT_COLS, nat_rows(g))

    # per-ENI expected classification
    rows = []
    for n, e in ENIS.items():
        if n == "TRAIN":
            # train-a's warm pool keeps its instance, and the ENI, until train-b reuses it.
            spans = [("training-job", "train-a", iso(TRAIN_JOBS[0][1]), iso(TRAIN_JOBS[1][1])),
                     ("training-job", "train-b", iso(TRAIN_JOBS[1][1]), iso(TRAIN_JOBS[1][2]))]
        elif n == "TRAIN-C":
            spans = [("training-job", TRAIN_C[0], iso(TRAIN_C[1]), iso(TRAIN_C[2]))]
        elif n in SM_STATIC:
            spans = [SM_STATIC[n] + ("", "")]
        elif n == "STUDIO-PUB":
            spans = [("domain", "d-public0000", "", "")]
        elif n == "ORPHAN":
            spans = [("aws-managed", "", "", "")]
        else:
            spans = [("", "", "", "")]
        kind = {"vpc_endpoint": "vpc-endpoint", "nat_gateway": "nat-gateway", "efs": "efs"}.get(e["itype"])
        if kind is None:
            kind = "sagemaker" if spans[0][0] not in ("", "aws-managed") else (
                "aws-managed-unattributed" if n == "ORPHAN" else "ec2")
        for typ, res, a, b in spans:
            rows.append({"name": n, "interface_id": e["id"], "private_ips": " ".join(e["ips"]), "vpc_id": e["vpc"],
                         "subnet_id": e["subnet"], "interface_type": e["itype"], "class": kind,
                         "sagemaker_resource_type": typ, "sagemaker_resource": res, "valid_from": a,
                         "valid_to": b})
    write_csv("expected/eni-attribution.csv", ["name", "interface_id", "private_ips", "vpc_id", "subnet_id",
                                               "interface_type", "class", "sagemaker_resource_type",
                                               "sagemaker_resource", "valid_from", "valid_to"], rows)

    totals = {"v2-default": len(g.records), "v5-custom": len(g.records), "parquet-hive": pq_n}
    counts = {}
    ba, bs, bd, bp = counts_for(g.records)
    for shape in ("v2-default", "v5-custom"):
        counts[shape] = {"files": len(files[shape]), "gzip_members": members[shape], "header_lines": len(files[shape]),
                         "records": len(g.records), "by_action": ba, "by_log_status": bs, "by_protocol": bp}
        if shape == "v5-custom":
            counts[shape]["by_flow_direction"] = bd
        counts[shape]["records_per_file"] = {os.path.basename(f): n for f, n in files[shape]}
    ba, bs, bd, bp = counts_for(pg.records)
    counts["parquet-hive"] = {"files": 1, "records": pq_n, "by_action": ba, "by_log_status": bs, "by_protocol": bp,
                              "by_flow_direction": bd}
    counts["_note"] = ("records exclude header lines; 'null' = '-' in text / NULL in Parquet (action is null "
                       "exactly for NODATA/SKIPDATA)")
    write(os.path.join(HERE, "expected", "counts.json"), (json.dumps(counts, indent=2) + "\n").encode())

    nrows = {}
    for f in findings:
        nrows[f["rule"]] = nrows.get(f["rule"], 0) + 1
    names = self_check(findings, totals, g.dns_expect)
    merged = {}
    for tag in ("v2", "v5"):
        for k, v in names[tag].items():
            merged.setdefault((k, v), []).append(tag)
    rows = [dict(zip(NAME_COLS, list(k) + list(v) + [",".join(tags)])) for (k, v), tags in merged.items()]
    rows.sort(key=lambda x: (int(x["start"]), x["interface_id"], x["srcaddr"], x["dstaddr"], x["srcport"],
                             x["shapes"]))
    write_csv("expected/dns-names.csv", NAME_COLS, rows)
    write_readme(files, members, totals, counts, findings, pq_rel, nrows, trail_files, dns_files, rows)


if __name__ == "__main__":
    main()
