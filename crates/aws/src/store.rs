//! Where scan results go: an object store keyed by run-scoped keys (S3 in production).

use futures::future::BoxFuture;

use crate::error::AwsError;

pub trait ObjectStore: Send + Sync {
    fn put<'a>(
        &'a self,
        key: &'a str,
        body: Vec<u8>,
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<(), AwsError>>;
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, AwsError>>;
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

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, AwsError>> {
        Box::pin(async move {
            let out = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| AwsError::api("s3", "GetObject", &e))?;
            let bytes = out.body.collect().await.map_err(|e| AwsError::Api {
                service: "s3",
                api: "GetObject",
                code: "ResponseError".into(),
                message: e.to_string(),
            })?;
            Ok(bytes.into_bytes().to_vec())
        })
    }
}

/// Reads and parses a JSON object; `what` names it in errors.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    store: &dyn ObjectStore,
    key: &str,
    what: &'static str,
) -> Result<T, AwsError> {
    let bytes = store.get(key).await?;
    serde_json::from_slice(&bytes).map_err(|e| AwsError::Serialise {
        what,
        reason: format!("s3 object {key}: {e}"),
    })
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
