//! The `BlobStore` port on the `object_store` crate: a local directory by
//! default (`DATA_DIR/attachments`), S3 or S3-compatible storage when
//! `STORAGE_URL` is `s3://bucket[/prefix]` (credentials, region and endpoint
//! from the standard `AWS_*` variables), and memory for tests. Uploads stream
//! through object_store's multipart writer, so a file is never held whole in
//! memory and becomes visible only once complete.

mod reader;
mod writer;

use async_trait::async_trait;
use chitchat_domain::attachment::{BlobKey, ByteRange};
use chitchat_domain::ports::{BlobChunks, BlobStore, BlobWriter};
use chitchat_domain::{DomainError, DomainResult};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore};
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum BlobStoreError {
    #[error("STORAGE_URL {0:?}: use s3://bucket[/prefix], file:///absolute/path or memory://")]
    UnsupportedUrl(String),
    #[error("attachments directory {path}: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("STORAGE_URL: {0}")]
    Store(#[from] object_store::Error),
}

/// Blobs in an object store.
#[derive(Clone)]
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    description: String,
}

impl ObjectBlobStore {
    /// The store `storage_url` names, or the directory `local_dir` without one.
    pub fn open(storage_url: Option<&str>, local_dir: &std::path::Path) -> Result<Self, BlobStoreError> {
        let Some(url) = storage_url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Self::directory(local_dir);
        };
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(BlobStoreError::UnsupportedUrl(url.to_owned()));
            }
            // Credentials, region and endpoint (S3-compatible services) from AWS_*.
            let s3 = AmazonS3Builder::from_env().with_bucket_name(bucket).build()?;
            let prefix = prefix.trim_matches('/');
            let store: Arc<dyn ObjectStore> =
                if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, prefix)) };
            return Ok(Self { store, description: format!("s3://{bucket}/{prefix}") });
        }
        if let Some(path) = url.strip_prefix("file://") {
            return Self::directory(std::path::Path::new(path));
        }
        if url == "memory://" {
            return Ok(Self::memory());
        }
        Err(BlobStoreError::UnsupportedUrl(url.to_owned()))
    }

    /// Blobs as files under `dir`, which is created when missing.
    pub fn directory(dir: &std::path::Path) -> Result<Self, BlobStoreError> {
        let failed = |source| BlobStoreError::Directory { path: dir.display().to_string(), source };
        std::fs::create_dir_all(dir).map_err(failed)?;
        let dir = dir.canonicalize().map_err(failed)?;
        // Removing a blob also removes the directories it leaves empty.
        let local = LocalFileSystem::new_with_prefix(&dir)?.with_automatic_cleanup(true);
        Ok(Self { store: Arc::new(local), description: format!("directory {}", dir.display()) })
    }

    /// Blobs in memory, gone with the process (tests).
    pub fn memory() -> Self {
        Self { store: Arc::new(InMemory::new()), description: "memory".to_owned() }
    }

    /// Where the blobs are, for the start-up log.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Copies every complete blob into `target`, streaming each (`chitchat
    /// backup`). Uploads still being written are not listed, and a blob removed
    /// during the copy is skipped. Returns how many blobs and bytes were copied.
    pub async fn copy_all_to(&self, target: &ObjectBlobStore) -> Result<(u64, u64), BlobStoreError> {
        use futures_util::StreamExt;
        let listed: Vec<_> = self.store.list(None).collect().await;
        let (mut files, mut bytes) = (0, 0);
        for meta in listed {
            let meta = match meta {
                Ok(meta) => meta,
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(error) => return Err(error.into()),
            };
            let mut chunks = match self.store.get(&meta.location).await {
                Ok(found) => found.into_stream(),
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(error) => return Err(error.into()),
            };
            let mut upload = object_store::WriteMultipart::new(target.store.put_multipart(&meta.location).await?);
            let mut copied = 0;
            while let Some(chunk) = chunks.next().await {
                let chunk = match chunk {
                    Ok(chunk) => chunk,
                    Err(error) => {
                        let _ = upload.abort().await;
                        return Err(error.into());
                    }
                };
                upload.wait_for_capacity(4).await?;
                copied += chunk.len() as u64;
                upload.write(&chunk);
            }
            upload.finish().await?;
            files += 1;
            bytes += copied;
        }
        Ok((files, bytes))
    }
}

fn path(key: &BlobKey) -> DomainResult<Path> {
    Path::parse(key.as_str()).map_err(|e| DomainError::unavailable_at(format!("blob key {:?}", key.as_str()), e))
}

pub(crate) fn unavailable(error: object_store::Error) -> DomainError {
    DomainError::unavailable_at("blob store", error)
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn put(&self, key: &BlobKey) -> DomainResult<Box<dyn BlobWriter>> {
        let upload = self.store.put_multipart(&path(key)?).await.map_err(unavailable)?;
        Ok(Box::new(writer::Writer::new(upload)))
    }

    async fn get(&self, key: &BlobKey, range: Option<ByteRange>) -> DomainResult<Option<Box<dyn BlobChunks>>> {
        let options = GetOptions { range: range.map(|r| GetRange::Bounded(r.start..r.end)), ..GetOptions::default() };
        match self.store.get_opts(&path(key)?, options).await {
            Ok(found) => Ok(Some(Box::new(reader::Chunks::new(found.into_stream())))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn size(&self, key: &BlobKey) -> DomainResult<Option<u64>> {
        match self.store.head(&path(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn delete(&self, key: &BlobKey) -> DomainResult<()> {
        match self.store.delete(&path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }
}
