//! Longest-prefix matching over IPv4/IPv6 CIDRs, built once and queried per record.
