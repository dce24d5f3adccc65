//! S3: listed once per account; each bucket's configuration is read from the bucket's own
//! region, buckets concurrently up to a bound, a bucket's calls concurrently with each other.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use compliance_core::model::{
    AclGrant, Bucket, BucketEncryption, BucketNotifications, BucketVersioning, LifecycleRule,
    LifecycleTransition, ObjectLock, PublicAccessBlock, ReplicationRule, S3AccountSettings,
};
use compliance_core::rules::s3 as api;
use compliance_core::rules::s3_protection as api2;
use compliance_core::{Inventory, ScanError, Service};
use futures::future::BoxFuture;
use futures::StreamExt;

use super::{tags_from, Collected, Collector};
use crate::error::{
    is_bucket_gone, optional, record, scan_error, CallFailure, FailureKind, NotFound,
};
use crate::sdk::ClientFactory;

/// Buckets read at once. Each bucket costs about twelve small calls; 16 keeps well under S3's
/// per-prefix limits while hiding latency.
pub const DEFAULT_BUCKET_CONCURRENCY: usize = 16;
const LIST_PAGE: i32 = 1000;

/// S3 and S3 Control answer Block Public Access in two identically shaped SDK types.
macro_rules! public_access_block {
    ($c:expr) => {
        PublicAccessBlock {
            block_public_acls: $c.block_public_acls().unwrap_or(false),
            ignore_public_acls: $c.ignore_public_acls().unwrap_or(false),
            block_public_policy: $c.block_public_policy().unwrap_or(false),
            restrict_public_buckets: $c.restrict_public_buckets().unwrap_or(false),
        }
    };
}

pub struct S3Collector {
    factory: ClientFactory,
    bucket_concurrency: usize,
    clients: Mutex<HashMap<String, aws_sdk_s3::Client>>,
}

impl S3Collector {
    pub fn new(factory: ClientFactory, bucket_concurrency: usize) -> Self {
        S3Collector {
            factory,
            bucket_concurrency: bucket_concurrency.max(1),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// One client per region, built once: building a client is cheap but not free.
    fn client(&self, region: &str) -> aws_sdk_s3::Client {
        let mut clients = match self.clients.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        clients
            .entry(region.to_string())
            .or_insert_with(|| self.factory.s3(region))
            .clone()
    }
}

impl Collector for S3Collector {
    fn service(&self) -> Service {
        Service::S3
    }

    fn collect<'a>(&'a self, account_id: &'a str, region: &'a str) -> BoxFuture<'a, Collected> {
        Box::pin(async move {
            let mut out = Collected {
                inventory: Inventory::new(account_id),
                errors: Vec::new(),
            };
            let (listed, account, mraps) = tokio::join!(
                self.list(region),
                self.account_settings(account_id, region),
                super::s3_access_points::multi_region_access_points(
                    &self.factory,
                    account_id,
                    region
                ),
            );
            match account {
                Ok(settings) => out.inventory.s3_account = Some(settings),
                Err(e) => out.errors.push(e),
            }
            match mraps {
                Ok(mraps) => out.inventory.multi_region_access_points = mraps,
                Err(e) => out.errors.push(e),
            }
            let listed = match listed {
                Ok(listed) => listed,
                Err(e) => {
                    out.errors.push(e);
                    return out;
                }
            };
            let mut results = futures::stream::iter(listed)
                .map(|(name, bucket_region)| self.read_bucket(name, bucket_region, region))
                .buffer_unordered(self.bucket_concurrency);
            while let Some((bucket, errors)) = results.next().await {
                out.errors.extend(errors);
                out.inventory.buckets.extend(bucket);
            }
            out.inventory.buckets.sort_by(|a, b| a.name.cmp(&b.name));
            resolve_replication_regions(&mut out.inventory.buckets);
            // Access points live in their bucket's region: list them where the buckets are.
            let mut regions: std::collections::BTreeSet<String> = out
                .inventory
                .buckets
                .iter()
                .map(|b| b.region.clone())
                .collect();
            regions.insert(region.to_string());
            let (access_points, errors) = super::s3_access_points::access_points(
                &self.factory,
                account_id,
                regions,
                self.bucket_concurrency,
            )
            .await;
            out.inventory.access_points = access_points;
            out.errors.extend(errors);
            out
        })
    }
}

impl S3Collector {
    /// Every bucket of the account with its region (ListBuckets gives it; older endpoints do
    /// not, and then GetBucketLocation does).
    async fn list(&self, home: &str) -> Result<Vec<(String, Option<String>)>, ScanError> {
        let client = self.client(home);
        let mut pages = client
            .list_buckets()
            .max_buckets(LIST_PAGE)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| scan_error(home, Service::S3, "ListBuckets", None, &e))?;
            for b in page.buckets() {
                if let Some(name) = b.name() {
                    let region = b
                        .bucket_region()
                        .filter(|r| !r.is_empty())
                        .map(str::to_string);
                    out.push((name.to_string(), region));
                }
            }
        }
        Ok(out)
    }

    async fn account_settings(
        &self,
        account_id: &str,
        home: &str,
    ) -> Result<S3AccountSettings, ScanError> {
        let result = self
            .factory
            .s3control()
            .get_public_access_block()
            .account_id(account_id)
            .send()
            .await;
        let public_access_block = optional(result)
            .map_err(|e| {
                let failure = CallFailure::of("s3control", "GetPublicAccessBlock", home, &e);
                record(
                    home,
                    Service::S3,
                    "GetPublicAccessBlock (account)",
                    None,
                    failure,
                )
            })?
            .and_then(|out| {
                out.public_access_block_configuration()
                    .map(|c| public_access_block!(c))
            });
        Ok(S3AccountSettings {
            region: home.to_string(),
            public_access_block,
        })
    }

    async fn bucket_region(&self, name: &str, home: &str) -> Result<String, ScanError> {
        let out = self
            .client(home)
            .get_bucket_location()
            .bucket(name)
            .send()
            .await
            .map_err(|e| scan_error(home, Service::S3, "GetBucketLocation", Some(name), &e))?;
        // An empty constraint is us-east-1; `EU` is the legacy name of eu-west-1.
        Ok(
            match out
                .location_constraint()
                .map(aws_sdk_s3::types::BucketLocationConstraint::as_str)
            {
                None | Some("") => "us-east-1".to_string(),
                Some("EU") => "eu-west-1".to_string(),
                Some(region) => region.to_string(),
            },
        )
    }

    /// Reads one bucket. `None` when the bucket vanished between listing and reading.
    async fn read_bucket(
        &self,
        name: String,
        listed_region: Option<String>,
        home: &str,
    ) -> (Option<Bucket>, Vec<ScanError>) {
        let region = match listed_region {
            Some(r) => r,
            None => match self.bucket_region(&name, home).await {
                Ok(r) => r,
                Err(e) => return (None, vec![e]),
            },
        };
        let client = self.client(&region);
        let n = name.as_str();
        let (encryption, pab, acl, policy, versioning, logging, tagging) = tokio::join!(
            client.get_bucket_encryption().bucket(n).send(),
            client.get_public_access_block().bucket(n).send(),
            client.get_bucket_acl().bucket(n).send(),
            client.get_bucket_policy().bucket(n).send(),
            client.get_bucket_versioning().bucket(n).send(),
            client.get_bucket_logging().bucket(n).send(),
            client.get_bucket_tagging().bucket(n).send(),
        );
        let (lifecycle, replication, notification, object_lock) = tokio::join!(
            client.get_bucket_lifecycle_configuration().bucket(n).send(),
            client.get_bucket_replication().bucket(n).send(),
            client
                .get_bucket_notification_configuration()
                .bucket(n)
                .send(),
            client.get_object_lock_configuration().bucket(n).send(),
        );
        let mut reader = BucketReader {
            name: n,
            region: &region,
            errors: Vec::new(),
            unreadable: Vec::new(),
            vanished: false,
        };

        let encryption = reader
            .read(api::API_ENCRYPTION, encryption)
            .flatten()
            .and_then(|out| {
                let rule = out
                    .server_side_encryption_configuration()?
                    .rules()
                    .first()?
                    .apply_server_side_encryption_by_default()?;
                Some(BucketEncryption {
                    algorithm: rule.sse_algorithm().as_str().to_string(),
                    kms_key_id: rule.kms_master_key_id().map(str::to_string),
                })
            });
        let public_access_block = reader
            .read(api::API_PUBLIC_ACCESS_BLOCK, pab)
            .flatten()
            .and_then(|out| {
                out.public_access_block_configuration()
                    .map(|c| public_access_block!(c))
            });
        let acl = reader.read(api::API_ACL, acl).flatten();
        let owner_id = acl
            .as_ref()
            .and_then(|out| out.owner().and_then(|o| o.id()).map(str::to_string));
        let acl_grants = acl
            .map(|out| {
                out.grants()
                    .iter()
                    .map(|g| AclGrant {
                        grantee_uri: g.grantee().and_then(|e| e.uri()).map(str::to_string),
                        grantee_id: g.grantee().and_then(|e| e.id()).map(str::to_string),
                        permission: g
                            .permission()
                            .map(|p| p.as_str().to_string())
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let policy = reader
            .read(api::API_POLICY, policy)
            .flatten()
            .and_then(|out| out.policy().map(str::to_string));
        let versioning = reader
            .read(api::API_VERSIONING, versioning)
            .flatten()
            .map(|out| BucketVersioning {
                status: out.status().map(|s| s.as_str().to_string()),
                mfa_delete: out.mfa_delete().map(|s| s.as_str().to_string()),
            })
            .unwrap_or_default();
        let logging_target = reader
            .read(api::API_LOGGING, logging)
            .flatten()
            .and_then(|out| out.logging_enabled().map(|l| l.target_bucket().to_string()));
        let tags = reader
            .read(api::API_TAGGING, tagging)
            .flatten()
            .map(|out| {
                tags_from(
                    out.tag_set()
                        .iter()
                        .map(|t| (Some(t.key()), Some(t.value()))),
                )
            })
            .unwrap_or_default();

        let lifecycle_rules = reader
            .read(api2::API_LIFECYCLE, lifecycle)
            .flatten()
            .map(|out| {
                out.rules()
                    .iter()
                    .map(|r| LifecycleRule {
                        enabled: r.status().as_str() == "Enabled",
                        expiration_days: r
                            .expiration()
                            .and_then(aws_sdk_s3::types::LifecycleExpiration::days),
                        transitions: r
                            .transitions()
                            .iter()
                            .map(|t| LifecycleTransition {
                                days: t.days(),
                                storage_class: t.storage_class().map(|c| c.as_str().to_string()),
                            })
                            .collect(),
                    })
                    .collect()
            });
        let replication_rules = reader
            .read(api2::API_REPLICATION, replication)
            .flatten()
            .map(|out| {
                out.replication_configuration()
                    .map(|c| {
                        c.rules()
                            .iter()
                            .map(|r| ReplicationRule {
                                enabled: r.status().as_str() == "Enabled",
                                destination_bucket: r
                                    .destination()
                                    .map(|d| d.bucket().to_string())
                                    .unwrap_or_default(),
                                destination_region: None,
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            });
        let notifications = reader
            .read(api2::API_NOTIFICATION, notification)
            .flatten()
            .map(|out| {
                let events = |e: &[aws_sdk_s3::types::Event]| {
                    e.iter().map(|e| e.as_str().to_string()).collect::<Vec<_>>()
                };
                let mut event_types = Vec::new();
                event_types.extend(
                    out.topic_configurations()
                        .iter()
                        .map(|c| events(c.events())),
                );
                event_types.extend(
                    out.queue_configurations()
                        .iter()
                        .map(|c| events(c.events())),
                );
                event_types.extend(
                    out.lambda_function_configurations()
                        .iter()
                        .map(|c| events(c.events())),
                );
                BucketNotifications {
                    event_types,
                    eventbridge: out.event_bridge_configuration().is_some(),
                }
            })
            .unwrap_or_default();
        let object_lock = reader
            .read(api2::API_OBJECT_LOCK, object_lock)
            .flatten()
            .and_then(|out| {
                out.object_lock_configuration().map(|c| ObjectLock {
                    enabled: c
                        .object_lock_enabled()
                        .map(aws_sdk_s3::types::ObjectLockEnabled::as_str)
                        == Some("Enabled"),
                    default_retention_mode: c
                        .rule()
                        .and_then(|r| r.default_retention())
                        .and_then(|d| d.mode())
                        .map(|m| m.as_str().to_string()),
                })
            });

        // Only a policy S3 might judge differently from us is worth a GetBucketPolicyStatus call.
        let policy_is_public = match &policy {
            Some(_) => {
                let status = client.get_bucket_policy_status().bucket(n).send().await;
                match status {
                    Ok(out) => out
                        .policy_status()
                        .and_then(aws_sdk_s3::types::PolicyStatus::is_public),
                    Err(e) => {
                        let failure = CallFailure::of("s3", "GetBucketPolicyStatus", &region, &e);
                        // Not every S3-compatible endpoint implements it; our own analysis
                        // still runs.
                        if failure.kind != FailureKind::Unsupported {
                            reader.errors.push(record(
                                &region,
                                Service::S3,
                                "GetBucketPolicyStatus",
                                Some(n),
                                failure,
                            ));
                        }
                        None
                    }
                }
            }
            None => None,
        };

        if reader.vanished {
            return (None, Vec::new());
        }
        let bucket = Bucket {
            name: name.clone(),
            arn: Bucket::arn_for(&name),
            region: region.clone(),
            encryption,
            public_access_block,
            acl_grants,
            policy,
            policy_is_public,
            versioning,
            logging_target,
            owner_id,
            lifecycle_rules,
            replication_rules,
            notifications,
            object_lock,
            tags,
            unreadable: reader.unreadable,
        };
        (Some(bucket), reader.errors)
    }
}

/// Fills each replication rule's destination region from the buckets the scan read (the
/// account's own); a destination outside the account keeps `None`.
fn resolve_replication_regions(buckets: &mut [Bucket]) {
    let regions: HashMap<String, String> = buckets
        .iter()
        .map(|b| (b.arn.clone(), b.region.clone()))
        .collect();
    for bucket in buckets.iter_mut() {
        for rule in bucket.replication_rules.iter_mut().flatten() {
            rule.destination_region = regions.get(&rule.destination_bucket).cloned();
        }
    }
}

/// Sorts each bucket call's result into: a value, "not configured", "bucket gone", or a
/// recorded error that makes the attribute unreadable.
struct BucketReader<'a> {
    name: &'a str,
    region: &'a str,
    errors: Vec<ScanError>,
    unreadable: Vec<String>,
    vanished: bool,
}

impl BucketReader<'_> {
    /// `Some(Some(v))`: answered; `Some(None)`: not configured; `None`: unreadable.
    #[allow(clippy::option_option)] // the three answers a bucket read has, named above
    fn read<T, E>(
        &mut self,
        api: &str,
        result: Result<T, SdkError<E, HttpResponse>>,
    ) -> Option<Option<T>>
    where
        E: NotFound + ProvideErrorMetadata + std::error::Error + 'static,
    {
        match optional(result) {
            Ok(v) => Some(v),
            Err(e) if is_bucket_gone(&e) => {
                self.vanished = true;
                None
            }
            Err(e) => {
                self.errors.push(scan_error(
                    self.region,
                    Service::S3,
                    api,
                    Some(self.name),
                    &e,
                ));
                self.unreadable.push(api.to_string());
                None
            }
        }
    }
}
