//! Where scan results go: an object store keyed by run-scoped keys (S3 in production, a map in
//! memory for the handlers' tests).

use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use compliance_core::contract::RunRef;
use compliance_core::run::RunDocument;
use futures::future::BoxFuture;

use crate::error::AwsError;
use crate::upload::Upload;

pub trait ObjectStore: Send + Sync {
    fn put<'a>(
        &'a self,
        key: &'a str,
        body: Vec<u8>,
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<(), AwsError>>;
    /// The object's bytes; `None` only when no object has the key (a denied read is an error).
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, AwsError>>;
    /// Starts a multipart upload (see [`crate::upload::StreamingObject`], which uses it).
    fn upload<'a>(
        &'a self,
        key: &'a str,
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn Upload<'a> + 'a>, AwsError>>;
}

pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Store {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

impl ObjectStore for S3Store {
    fn put<'a>(
        &'a self,
        key: &'a str,
        body: Vec<u8>,
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .content_type(content_type)
                .body(body.into())
                .send()
                .await
                .map_err(|e| AwsError::api("s3", "PutObject", &e))?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, AwsError>> {
        Box::pin(async move {
            let out = match self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e)
                    if e.as_service_error().is_some_and(
                        aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(AwsError::api("s3", "GetObject", &e)),
            };
            let bytes = out.body.collect().await.map_err(|e| AwsError::Api {
                service: "s3",
                api: "GetObject",
                code: "ResponseError".into(),
                message: e.to_string(),
            })?;
            // Without a copy when the body arrived in one piece.
            Ok(Some(Vec::from(bytes.into_bytes())))
        })
    }

    fn upload<'a>(
        &'a self,
        key: &'a str,
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn Upload<'a> + 'a>, AwsError>> {
        Box::pin(async move {
            let out = self
                .client
                .create_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .content_type(content_type)
                .checksum_algorithm(ChecksumAlgorithm::Crc32)
                .send()
                .await
                .map_err(|e| AwsError::api("s3", "CreateMultipartUpload", &e))?;
            let upload_id = out.upload_id().unwrap_or_default().to_string();
            Ok(Box::new(S3Upload {
                store: self,
                key,
                upload_id,
                parts: Vec::new(),
            }) as Box<dyn Upload<'a> + 'a>)
        })
    }
}

/// Parts carry a CRC32 checksum: a bucket with Object Lock refuses parts without one.
struct S3Upload<'a> {
    store: &'a S3Store,
    key: &'a str,
    upload_id: String,
    parts: Vec<CompletedPart>,
}

impl<'a> Upload<'a> for S3Upload<'a> {
    fn part(&mut self, body: Vec<u8>) -> BoxFuture<'_, Result<(), AwsError>> {
        Box::pin(async move {
            let number = i32::try_from(self.parts.len() + 1).unwrap_or(i32::MAX);
            let out = self
                .store
                .client
                .upload_part()
                .bucket(&self.store.bucket)
                .key(self.key)
                .upload_id(&self.upload_id)
                .part_number(number)
                .checksum_algorithm(ChecksumAlgorithm::Crc32)
                .body(body.into())
                .send()
                .await
                .map_err(|e| AwsError::api("s3", "UploadPart", &e))?;
            self.parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag().map(str::to_string))
                    .set_checksum_crc32(out.checksum_crc32().map(str::to_string))
                    .build(),
            );
            Ok(())
        })
    }

    fn complete(self: Box<Self>) -> BoxFuture<'a, Result<(), AwsError>> {
        Box::pin(async move {
            self.store
                .client
                .complete_multipart_upload()
                .bucket(&self.store.bucket)
                .key(self.key)
                .upload_id(&self.upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(self.parts))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| AwsError::api("s3", "CompleteMultipartUpload", &e))?;
            Ok(())
        })
    }

    fn abort(self: Box<Self>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let aborted = self
                .store
                .client
                .abort_multipart_upload()
                .bucket(&self.store.bucket)
                .key(self.key)
                .upload_id(&self.upload_id)
                .send()
                .await;
            if let Err(e) = aborted {
                // The bucket's lifecycle rule removes incomplete uploads; nothing is lost.
                tracing::warn!(key = self.key, error = %AwsError::api("s3", "AbortMultipartUpload", &e), "upload not aborted");
            }
        })
    }
}

/// Reads and parses a JSON object that must exist; `what` names it in errors.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    store: &dyn ObjectStore,
    key: &str,
    what: &'static str,
) -> Result<T, AwsError> {
    get_optional_json(store, key, what)
        .await?
        .ok_or_else(|| AwsError::Missing {
            what,
            key: key.to_string(),
        })
}

/// Reads and parses a JSON object that may not exist (yet): `None` only when it does not.
pub async fn get_optional_json<T: serde::de::DeserializeOwned>(
    store: &dyn ObjectStore,
    key: &str,
    what: &'static str,
) -> Result<Option<T>, AwsError> {
    let Some(bytes) = store.get(key).await? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| AwsError::Serialise {
            what,
            reason: format!("s3 object {key}: {e}"),
        })
}

/// The run document a state was handed.
pub async fn read_run_document(
    store: &dyn ObjectStore,
    run: &RunRef,
) -> Result<RunDocument, AwsError> {
    get_json(store, &run.run_key, "the run document").await
}

pub async fn put_json<T: serde::Serialize>(
    store: &dyn ObjectStore,
    key: &str,
    value: &T,
    what: &'static str,
) -> Result<(), AwsError> {
    let body = serde_json::to_vec(value).map_err(|e| AwsError::Serialise {
        what,
        reason: e.to_string(),
    })?;
    store.put(key, body, "application/json").await
}

/// An object store in memory, for tests of the handlers' decisions.
#[derive(Default)]
pub struct MemoryStore {
    objects: std::sync::Mutex<std::collections::BTreeMap<String, Vec<u8>>>,
    uploads: std::sync::Mutex<usize>,
    /// Puts (and completed uploads) a test makes fail.
    pub writes: crate::fault::WriteFault,
}

impl MemoryStore {
    /// Multipart uploads started (objects too large for one put).
    pub fn uploads_started(&self) -> usize {
        *crate::lock(&self.uploads)
    }

    /// The keys stored, in order.
    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// A stored object's bytes, if present.
    pub fn bytes(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().get(key).cloned()
    }

    /// Every stored object, by key (to compare the bucket before and after a re-run).
    pub fn objects(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        self.lock().clone()
    }

    /// A stored object parsed as JSON, if present.
    pub fn json(&self, key: &str) -> Option<serde_json::Value> {
        self.lock()
            .get(key)
            .and_then(|b| serde_json::from_slice(b).ok())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, Vec<u8>>> {
        // A panic while holding the lock already failed the test that caused it.
        crate::lock(&self.objects)
    }
}

impl ObjectStore for MemoryStore {
    fn put<'a>(
        &'a self,
        key: &'a str,
        body: Vec<u8>,
        _content_type: &'a str,
    ) -> BoxFuture<'a, Result<(), AwsError>> {
        let result = self.writes.check("s3", "PutObject");
        if result.is_ok() {
            self.lock().insert(key.to_string(), body);
        }
        Box::pin(async { result })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, AwsError>> {
        let found = self.lock().get(key).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn upload<'a>(
        &'a self,
        key: &'a str,
        _content_type: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn Upload<'a> + 'a>, AwsError>> {
        *crate::lock(&self.uploads) += 1;
        Box::pin(async move {
            Ok(Box::new(MemoryUpload {
                store: self,
                key,
                parts: Vec::new(),
            }) as Box<dyn Upload<'a> + 'a>)
        })
    }
}

/// Parts are kept apart until completion, as S3 does: an aborted upload leaves no object.
struct MemoryUpload<'a> {
    store: &'a MemoryStore,
    key: &'a str,
    parts: Vec<Vec<u8>>,
}

impl<'a> Upload<'a> for MemoryUpload<'a> {
    fn part(&mut self, body: Vec<u8>) -> BoxFuture<'_, Result<(), AwsError>> {
        self.parts.push(body);
        Box::pin(async { Ok(()) })
    }

    fn complete(self: Box<Self>) -> BoxFuture<'a, Result<(), AwsError>> {
        let result = self.store.writes.check("s3", "CompleteMultipartUpload");
        if result.is_ok() {
            self.store
                .lock()
                .insert(self.key.to_string(), self.parts.concat());
        }
        Box::pin(async { result })
    }

    fn abort(self: Box<Self>) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}
