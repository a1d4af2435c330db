//! A blob being written through object_store's `WriteMultipart`: chunks are
//! buffered into parts and sent as they fill, a few at a time, so memory stays
//! bounded whatever the file's size.

use crate::unavailable;
use async_trait::async_trait;
use chitchat_domain::ports::BlobWriter;
use chitchat_domain::DomainResult;
use object_store::{MultipartUpload, WriteMultipart};

/// Parts in flight at once (each up to object_store's 5 MiB part size).
const PARTS_IN_FLIGHT: usize = 2;

pub(crate) struct Writer {
    /// None once finished or aborted.
    upload: Option<WriteMultipart>,
}

impl Writer {
    pub(crate) fn new(upload: Box<dyn MultipartUpload>) -> Self {
        Self { upload: Some(WriteMultipart::new(upload)) }
    }

    fn upload(&mut self) -> DomainResult<&mut WriteMultipart> {
        self.upload.as_mut().ok_or_else(|| chitchat_domain::DomainError::unavailable("blob writer already closed"))
    }
}

#[async_trait]
impl BlobWriter for Writer {
    async fn write(&mut self, chunk: &[u8]) -> DomainResult<()> {
        let upload = self.upload()?;
        // Back-pressure: wait while enough parts are on their way.
        upload.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(unavailable)?;
        upload.write(chunk);
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> DomainResult<()> {
        let upload = self.upload.take();
        match upload {
            Some(upload) => upload.finish().await.map(drop).map_err(unavailable),
            None => Ok(()),
        }
    }

    async fn abort(mut self: Box<Self>) -> DomainResult<()> {
        match self.upload.take() {
            Some(upload) => upload.abort().await.map_err(unavailable),
            None => Ok(()),
        }
    }
}

impl Drop for Writer {
    /// A writer dropped half-way (the client went away mid-upload) discards what
    /// was written, so that no partial file or pending multipart upload stays.
    fn drop(&mut self) {
        let Some(upload) = self.upload.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(error) = upload.abort().await {
                        tracing::warn!(%error, "could not discard an abandoned upload");
                    }
                });
            }
            Err(_) => tracing::warn!("an abandoned upload could not be discarded: no runtime"),
        }
    }
}
