//! The bytes of uploaded files, and what can be learnt from them.

use crate::attachment::{BlobKey, ByteRange, ImageFacts};
use crate::error::DomainResult;
use async_trait::async_trait;

/// Where the bytes of uploaded files live: a directory, or S3-compatible storage.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Starts storing a new blob under `key`, written chunk by chunk. Nothing is
    /// readable under the key until `BlobWriter::finish`; an aborted or dropped
    /// writer leaves nothing behind.
    async fn put(&self, key: &BlobKey) -> DomainResult<Box<dyn BlobWriter>>;
    /// The blob's bytes, all of them or `range` (already within its size); None
    /// when there is no such blob.
    async fn get(&self, key: &BlobKey, range: Option<ByteRange>) -> DomainResult<Option<Box<dyn BlobChunks>>>;
    /// The blob's size in bytes; None when there is no such blob.
    async fn size(&self, key: &BlobKey) -> DomainResult<Option<u64>>;
    /// Removes the blob; removing one that is not there is no error.
    async fn delete(&self, key: &BlobKey) -> DomainResult<()>;
}

/// A blob being written. Dropping it without `finish` discards what was written.
#[async_trait]
pub trait BlobWriter: Send {
    async fn write(&mut self, chunk: &[u8]) -> DomainResult<()>;
    /// Makes the blob readable under its key.
    async fn finish(self: Box<Self>) -> DomainResult<()>;
    /// Discards what was written.
    async fn abort(self: Box<Self>) -> DomainResult<()>;
}

/// A blob being read, chunk by chunk.
#[async_trait]
pub trait BlobChunks: Send {
    /// The next chunk, or None at the end.
    async fn next_chunk(&mut self) -> DomainResult<Option<Vec<u8>>>;
}

/// Recognises files by their bytes and makes thumbnails of images.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MediaInspector: Send + Sync {
    /// The media type of a file whose first bytes (`SNIFF_BYTES`, or all of a
    /// shorter file) are `head`: found in the bytes, never from a name;
    /// `application/octet-stream` when unknown.
    fn sniff(&self, head: &[u8]) -> String;
    /// The size of an image and a thumbnail (at most `THUMBNAIL_MAX_SIDE` on its
    /// longer side, aspect kept), decoding within memory limits. With only the
    /// start of the file (`complete` false), the size when its header tells it.
    /// None when it cannot be read as an image. `Busy` when decoding it now would
    /// take the server over its memory budget for decoding.
    async fn inspect_image(&self, bytes: Vec<u8>, complete: bool) -> DomainResult<Option<ImageFacts>>;
    /// A whole photo without what it tells about where, when and with what it
    /// was taken (EXIF with GPS and camera, XMP, IPTC, text chunks), losslessly:
    /// the pixels are not touched, and its orientation stays as the only EXIF
    /// tag so that it shows the right way up. A JPEG, PNG or WebP; anything
    /// else, or a file whose structure cannot be read, comes back as it was.
    async fn strip_metadata(&self, bytes: Vec<u8>) -> DomainResult<Vec<u8>>;
}
