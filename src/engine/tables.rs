//! Inventory facts as SQL tables, for rules that are about configuration rather than
//! traffic: `enis` (every ENI with its attribution and flow-log coverage: by any flow log,
//! and by one that records accepted traffic) and
//! `sagemaker_resources` (notebooks and domains with their internet-access settings, jobs
//! and endpoints with where they run: `outside_vpc` when in a VPC SageMaker manages), and
//! `--dns`'s answers (`answers`).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::decode::TimeWindow;
use crate::enrich::Enricher;
use crate::enrich::attribution::{
    ENDPOINT, HYPERPOD_CLUSTER, MLFLOW_TRACKING_SERVER, PROCESSING_JOB, TRAINING_JOB, TRANSFORM_JOB,
};
use crate::error::Result;
use crate::inventory::{Item, JobKind, Placed};
use crate::source::SourceObject;
use crate::source::layout::DELIVERED_WITHIN_SECS;

/// `scan_context(incremental, window_start, window_end, delivered_until)`: whether this run
/// reads only new data (`scan --state`), for rules whose meaning needs the whole data set,
/// the run's `--since`/`--until` (Unix seconds, NULL when not given), for rules about
/// workloads that ran at some time, and, for rules about records that are missing, the
/// time after which the sources read may not hold them: `--until`, but no later than half
/// an hour before the run ([`DELIVERED_WITHIN_SECS`]: records still on their way), nor
/// than the latest time `objects` can hold ([`sources_end`]).
pub fn register_context(
    ctx: &SessionContext,
    incremental: bool,
    window: TimeWindow,
    objects: &[SourceObject],
) -> Result<()> {
    let _ = ctx.deregister_table("scan_context")?;
    let delivered_until = [
        Some(chrono::Utc::now().timestamp() - DELIVERED_WITHIN_SECS),
        window.until,
        sources_end(objects),
    ]
    .into_iter()
    .flatten()
    .min();
    register_batch(
        ctx,
        "scan_context",
        vec![
            Field::new("incremental", DataType::Boolean, false),
            Field::new("window_start", DataType::Int64, true),
            Field::new("window_end", DataType::Int64, true),
            Field::new("delivered_until", DataType::Int64, true),
        ],
        vec![
            Arc::new(BooleanArray::from(vec![incremental])),
            Arc::new(Int64Array::from(vec![window.since])),
            Arc::new(Int64Array::from(vec![window.until])),
            Arc::new(Int64Array::from(vec![delivered_until])),
        ],
    )
}

/// The latest time any record of `objects` can have, when every one of them says (an AWS
/// object name, or date partitions: the widened span of [`crate::source::layout::KeyInfo`]):
/// an inventory taken later lists ENIs attached after it, which these objects cannot show.
/// `None` when one does not (a CloudWatch stream, a renamed file).
fn sources_end(objects: &[SourceObject]) -> Option<i64> {
    objects
        .iter()
        .map(|o| o.key.range.map(|(_, to)| to))
        .collect::<Option<Vec<i64>>>()?
        .into_iter()
        .max()
}

pub fn register(
    ctx: &SessionContext,
    enricher: &Enricher,
    window: TimeWindow,
    objects: &[SourceObject],
) -> Result<()> {
    register_context(ctx, false, window, objects)?;
    for (name, batch) in batches(enricher)? {
        let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
        ctx.register_table(name, Arc::new(table))?;
    }
    Ok(())
}

/// The inventory tables, by name: `enis`, `sagemaker_resources` and `dns_answers`
/// (registered for rules, and written next to an export so that other engines can run
/// the same rules).
pub fn batches(enricher: &Enricher) -> Result<Vec<(&'static str, RecordBatch)>> {
    let inv = enricher.inventory();
    let mut enis: Vec<&crate::inventory::Eni> = inv.enis.values().collect();
    enis.sort_by(|a, b| a.id.cmp(&b.id));
    let mut cols: Vec<Vec<Option<String>>> = vec![Vec::new(); 11];
    let mut logged = Vec::new();
    let mut accepted = Vec::new();
    let mut accepted_from = Vec::new();
    let mut failing = Vec::new();
    let mut attached = Vec::new();
    let mut status = Vec::new();
    let mut reachable = Vec::new();
    for eni in &enis {
        let owner = enricher.owner(&eni.id);
        let resource = owner.and_then(|o| o.resource_any_time());
        let text = |v: Option<&str>| v.map(str::to_string);
        let vals = [
            Some(eni.id.clone()),
            eni.vpc_id.clone(),
            eni.subnet_id.clone(),
            Some(eni.interface_type.clone()),
            Some(owner.map_or("unknown", |o| o.kind()).to_string()),
            text(resource.as_ref().and_then(|r| r.rtype)),
            text(resource.as_ref().and_then(|r| r.name)),
            text(resource.as_ref().and_then(|r| r.user_profile)),
            text(resource.as_ref().and_then(|r| r.candidates.as_deref())),
            text(enricher.attribution_rule(&eni.id)),
            text(enricher.attribution_document(&eni.id)),
        ];
        for (c, v) in cols.iter_mut().zip(vals) {
            c.push(v);
        }
        let covering: Vec<_> = inv.flow_logs.iter().filter(|f| f.covers(eni)).collect();
        logged.push(!covering.is_empty());
        let accepting = covering.iter().any(|f| f.logs_accepted());
        accepted.push(accepting);
        accepted_from.push(inv.accepted_logged_from(eni).filter(|&t| t != i64::MIN));
        failing.push(accepting && !inv.accepted_delivered(eni));
        attached.push(eni.attach_time);
        status.push(eni.status.clone());
        reachable.push(enricher.reachable_from_internet(eni));
    }
    let names = [
        "interface_id",
        "vpc_id",
        "subnet_id",
        "interface_type",
        "eni_owner_kind",
        "sagemaker_resource_type",
        "sagemaker_resource",
        "sagemaker_user_profile",
        "sagemaker_candidates",
        "attribution_rule",
        "attribution_document",
    ];
    let mut fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, true))
        .collect();
    fields.push(Field::new("flow_logged", DataType::Boolean, false));
    fields.push(Field::new("accepted_logged", DataType::Boolean, false));
    // When a flow log of accepted traffic began to cover it (its CreationTime; NULL: not
    // covered, or no time known), when it was attached, and `Status`: a rule can tell an
    // ENI that could have had records in a window from one that could not.
    fields.push(Field::new("accepted_logged_from", DataType::Int64, true));
    // Every flow log of accepted traffic that covers it fails to deliver (describe-flow-logs'
    // `DeliverLogsStatus` FAILED): its records may be missing.
    fields.push(Field::new("delivery_failed", DataType::Boolean, false));
    fields.push(Field::new("attached_at", DataType::Int64, true));
    fields.push(Field::new("status", DataType::Utf8, true));
    // Whether a host on the internet can open a connection to it: who opened a
    // connection, when no TCP flags say.
    fields.push(Field::new(
        "reachable_from_internet",
        DataType::Boolean,
        false,
    ));
    let mut arrays: Vec<ArrayRef> = cols
        .into_iter()
        .map(|c| Arc::new(StringArray::from(c)) as ArrayRef)
        .collect();
    arrays.push(Arc::new(BooleanArray::from(logged)));
    arrays.push(Arc::new(BooleanArray::from(accepted)));
    arrays.push(Arc::new(Int64Array::from(accepted_from)));
    arrays.push(Arc::new(BooleanArray::from(failing)));
    arrays.push(Arc::new(Int64Array::from(attached)));
    arrays.push(Arc::new(StringArray::from(status)));
    arrays.push(Arc::new(BooleanArray::from(reachable)));
    let enis = batch(fields, arrays)?;

    let mut rtype = Vec::new();
    let mut name = Vec::new();
    let mut vpc = Vec::new();
    let mut direct = Vec::new();
    let mut access = Vec::new();
    let mut reason = Vec::new();
    let mut document = Vec::new();
    let mut outside = Vec::new();
    let subnet_vpc = inv.subnet_vpcs();
    for nb in &inv.notebooks {
        document.push(inv.document(Item::Notebook(&nb.key())).map(str::to_string));
        rtype.push("notebook_instance".to_string());
        name.push(nb.name.clone());
        vpc.push(
            nb.subnet_id
                .as_deref()
                .and_then(|s| subnet_vpc.get(s))
                .map(|v| v.to_string()),
        );
        // Without a subnet a notebook instance runs in SageMaker's VPC (its internet
        // access is then always Enabled).
        outside.push(Some(nb.subnet_id.is_none()));
        direct.push(nb.direct_internet_access);
        access.push(None::<String>);
        reason.push(if nb.direct_internet_access {
            "DirectInternetAccess is Enabled: internet and S3/DynamoDB traffic bypasses your VPC and its flow logs"
        } else {
            "DirectInternetAccess is Disabled"
        }.to_string());
    }
    for d in &inv.domains {
        document.push(inv.document(Item::Domain(&d.id)).map(str::to_string));
        rtype.push("studio_domain".to_string());
        name.push(d.id.clone());
        vpc.push(d.vpc_id.clone());
        outside.push(Some(d.vpc_id.is_none()));
        direct.push(false);
        access.push(Some(d.app_network_access_type.clone()));
        reason.push(format!(
            "AppNetworkAccessType is {}{}",
            d.app_network_access_type,
            if d.app_network_access_type == "PublicInternetOnly" {
                ": internet and AWS API traffic leaves through a SageMaker-managed VPC your flow logs do not see"
            } else {
                ""
            }
        ));
    }
    // Notebooks and domains run from their creation as long as they exist.
    let mut from: Vec<Option<i64>> = inv
        .notebooks
        .iter()
        .map(|n| n.created)
        .chain(inv.domains.iter().map(|d| d.created))
        .collect();
    let mut to = vec![None; rtype.len()];
    // Whether a flow log that records accepted traffic covered `subnet` all the while a
    // workload ran (`Ok`), or from when (`Err(Some(t))`: created while it ran), or not
    // (`Err(None)`): one on the subnet, or on its VPC; a subnet of no known VPC counts as
    // covered when any VPC's flow log could be its (unknown is not a finding). A flow log
    // records nothing from before its creation.
    let accepted_logs: Vec<_> = inv.flow_logs.iter().filter(|f| f.logs_accepted()).collect();
    let subnet_logged = |subnet: &str, ran: Option<crate::inventory::Window>| {
        let vpc = subnet_vpc.get(subnet).copied();
        let mut from: Option<i64> = None;
        for f in &accepted_logs {
            let covers = f.resource_id == subnet
                || match vpc {
                    Some(v) => f.resource_id == v,
                    None => f.resource_id.starts_with("vpc-"),
                };
            if !covers {
                continue;
            }
            match (f.created, ran) {
                (Some(c), Some(w)) if c > w.from + crate::enrich::attribution::CLOCK_SLACK => {
                    if w.to.is_none_or(|to| c <= to) {
                        from = Some(from.map_or(c, |t| t.min(c)));
                    }
                }
                _ => return Ok(()),
            }
        }
        Err(from)
    };
    let mut unlogged = vec![None::<String>; rtype.len()];
    let mut logged_from = vec![None::<i64>; rtype.len()];
    for p in inv.placements() {
        let mut missing: Vec<String> = Vec::new();
        // From when every subnet it used was logged: the latest creation of their first
        // flow logs, when each was created while it ran; `None` once one never was.
        let mut all_from: Option<i64> = Some(i64::MIN);
        if p.outside_vpc == Some(false) && inv.flow_logs_listed {
            for s in p.subnets {
                match subnet_logged(s, p.window) {
                    Ok(()) => {}
                    Err(None) => {
                        all_from = None;
                        missing.push(s.clone());
                    }
                    // Unlogged until then.
                    Err(Some(t)) => {
                        all_from = all_from.map(|f| f.max(t));
                        missing.push(format!("{s} until {}", crate::format::iso(t)));
                    }
                }
            }
        }
        logged_from.push(all_from.filter(|_| !missing.is_empty()));
        unlogged.push((!missing.is_empty()).then(|| missing.join(", ")));
        rtype.push(
            match p.placed {
                Placed::Job(JobKind::Training) => TRAINING_JOB,
                Placed::Job(JobKind::Processing) => PROCESSING_JOB,
                Placed::Job(JobKind::Transform) => TRANSFORM_JOB,
                Placed::Endpoint => ENDPOINT,
                Placed::Cluster => HYPERPOD_CLUSTER,
                Placed::MlflowServer => MLFLOW_TRACKING_SERVER,
            }
            .to_string(),
        );
        name.push(p.name.to_string());
        vpc.push(
            p.subnets
                .iter()
                .find_map(|s| subnet_vpc.get(s.as_str()).copied())
                .map(str::to_string),
        );
        outside.push(p.outside_vpc);
        direct.push(false);
        access.push(None);
        reason.push(p.reason);
        document.push(p.document.map(str::to_string));
        from.push(p.window.map(|w| w.from));
        to.push(p.window.and_then(|w| w.to));
    }
    let fields = vec![
        Field::new("resource_type", DataType::Utf8, false),
        Field::new("resource", DataType::Utf8, false),
        Field::new("vpc_id", DataType::Utf8, true),
        Field::new("direct_internet_access", DataType::Boolean, false),
        Field::new("app_network_access_type", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, false),
        Field::new("document", DataType::Utf8, true),
        Field::new("outside_vpc", DataType::Boolean, true),
        Field::new("active_from", DataType::Int64, true),
        Field::new("active_to", DataType::Int64, true),
        // An in-VPC workload's subnets that no flow log of accepted traffic covered while
        // it ran, comma-separated (NULL: none, or no flow logs are in the inventory).
        Field::new("unlogged_subnets", DataType::Utf8, true),
        // When every one of them was logged (the first flow logs created while it ran),
        // Unix seconds: NULL when one never was.
        Field::new("logged_from", DataType::Int64, true),
    ];
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(rtype)),
        Arc::new(StringArray::from(name)),
        Arc::new(StringArray::from(vpc)),
        Arc::new(BooleanArray::from(direct)),
        Arc::new(StringArray::from(access)),
        Arc::new(StringArray::from(reason)),
        Arc::new(StringArray::from(document)),
        Arc::new(BooleanArray::from(outside)),
        Arc::new(Int64Array::from(from)),
        Arc::new(Int64Array::from(to)),
        Arc::new(StringArray::from(unlogged)),
        Arc::new(Int64Array::from(logged_from)),
    ];
    Ok(vec![
        ("enis", enis),
        ("sagemaker_resources", batch(fields, arrays)?),
        ("dns_answers", super::answers::batch(enricher)?),
    ])
}

fn register_batch(
    ctx: &SessionContext,
    name: &str,
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
) -> Result<()> {
    let batch = batch(fields, arrays)?;
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(())
}

fn batch(fields: Vec<Field>, arrays: Vec<ArrayRef>) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}
