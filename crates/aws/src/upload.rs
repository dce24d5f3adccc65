//! Objects written piece by piece: a document too large to hold whole (the run document of an
//! organization) goes up as S3 multipart parts while it is produced; a small one is one put.

use futures::future::BoxFuture;

use crate::error::AwsError;
use crate::store::ObjectStore;

/// S3's smallest part (but the last) is 5 MiB; 8 MiB keeps the part count low for any estate.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// A multipart upload under way.
pub trait Upload<'a>: Send {
    fn part(&mut self, body: Vec<u8>) -> BoxFuture<'_, Result<(), AwsError>>;
    fn complete(self: Box<Self>) -> BoxFuture<'a, Result<(), AwsError>>;
    /// Drops the parts sent (S3 keeps them, billed, until aborted).
    fn abort(self: Box<Self>) -> BoxFuture<'a, ()>;
}

/// Writes bytes to `key`, holding at most one part in memory.
pub struct StreamingObject<'a> {
    store: &'a dyn ObjectStore,
    key: &'a str,
    content_type: &'a str,
    buffer: Vec<u8>,
    upload: Option<Box<dyn Upload<'a> + 'a>>,
    part_size: usize,
}

impl<'a> StreamingObject<'a> {
    pub fn new(store: &'a dyn ObjectStore, key: &'a str, content_type: &'a str) -> Self {
        StreamingObject::with_part_size(store, key, content_type, PART_SIZE)
    }

    pub fn with_part_size(
        store: &'a dyn ObjectStore,
        key: &'a str,
        content_type: &'a str,
        part_size: usize,
    ) -> Self {
        StreamingObject {
            store,
            key,
            content_type,
            buffer: Vec::new(),
            upload: None,
            part_size,
        }
    }

    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), AwsError> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= self.part_size {
            if self.upload.is_none() {
                self.upload = Some(self.store.upload(self.key, self.content_type).await?);
            }
            let part = std::mem::take(&mut self.buffer);
            if let Some(upload) = self.upload.as_mut() {
                if let Err(e) = upload.part(part).await {
                    self.abort().await;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Completes the object: one put when it never outgrew a part.
    pub async fn finish(mut self) -> Result<(), AwsError> {
        let rest = std::mem::take(&mut self.buffer);
        match self.upload.take() {
            None => self.store.put(self.key, rest, self.content_type).await,
            Some(mut upload) => {
                let sent = if rest.is_empty() {
                    Ok(())
                } else {
                    upload.part(rest).await
                };
                match sent {
                    Ok(()) => upload.complete().await,
                    Err(e) => {
                        upload.abort().await;
                        Err(e)
                    }
                }
            }
        }
    }

    async fn abort(&mut self) {
        if let Some(upload) = self.upload.take() {
            upload.abort().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn a_small_object_is_one_put_and_a_large_one_goes_up_in_parts() {
        let store = MemoryStore::default();
        let mut small = StreamingObject::with_part_size(&store, "small", "text/plain", 16);
        small.write(b"hello").await.unwrap();
        small.finish().await.unwrap();
        assert_eq!(store.uploads_started(), 0);

        let mut large = StreamingObject::with_part_size(&store, "large", "text/plain", 16);
        let mut expected = Vec::new();
        for i in 0..20 {
            let chunk = format!("chunk {i:02};");
            large.write(chunk.as_bytes()).await.unwrap();
            expected.extend_from_slice(chunk.as_bytes());
            assert!(
                !store.keys().contains(&"large".to_string()),
                "invisible until complete"
            );
        }
        large.finish().await.unwrap();
        assert_eq!(store.uploads_started(), 1);
        assert_eq!(
            crate::store::ObjectStore::get(&store, "large")
                .await
                .unwrap(),
            Some(expected)
        );
        assert_eq!(
            crate::store::ObjectStore::get(&store, "small")
                .await
                .unwrap(),
            Some(b"hello".to_vec())
        );
    }
}
