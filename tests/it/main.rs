//! Every integration test, in one binary: each file here is a module for one area
//! (`cargo test --test it export::` runs one). One binary links DataFusion and the AWS SDK
//! once instead of once per file, which was a large part of the test build. `support/` is
//! the shared harness (moto, the fault proxy, the binary and repository root).

mod support;

mod aws_cloudwatch;
mod aws_inventory;
mod aws_network;
mod aws_s3;
mod aws_state;
mod cli;
mod conformance;
#[cfg(feature = "distributed")]
mod distributed;
mod dns;
mod export;
mod faults;
mod findings;
mod fuzz_corpus;
mod history;
mod limits;
mod moto_smoke;
mod no_false_clean;
mod output;
mod readme_tour;
mod real_layouts;
mod report;
mod roundtrip;
mod scan;
mod security;
mod signals;
