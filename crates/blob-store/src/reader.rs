//! A blob (or a range of it) read as object_store streams it.

use crate::unavailable;
use async_trait::async_trait;
use chitchat_domain::ports::BlobChunks;
use chitchat_domain::DomainResult;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;

type ByteStream = BoxStream<'static, object_store::Result<bytes::Bytes>>;

pub(crate) struct Chunks {
    stream: ByteStream,
}

impl Chunks {
    pub(crate) fn new(stream: ByteStream) -> Self {
        Self { stream }
    }
}

#[async_trait]
impl BlobChunks for Chunks {
    async fn next_chunk(&mut self) -> DomainResult<Option<Vec<u8>>> {
        match self.stream.next().await {
            Some(Ok(bytes)) => Ok(Some(Vec::from(bytes))),
            Some(Err(error)) => Err(unavailable(error)),
            None => Ok(None),
        }
    }
}
