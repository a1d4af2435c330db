//! Uploading and downloading files. An upload streams into the blob store chunk
//! by chunk under the size limit, its type is taken from its bytes, images get
//! their size and a thumbnail, and only then are its facts stored. Who may
//! download: the uploader, and the members of a chat where it was sent. Sending
//! it is `MessageService::send` (see `attachment::check_for_send`).

use super::Ports;
use crate::attachment::{
    rules::attachment_not_found, sanitize_file_name, Attachment, AttachmentInfo, AttachmentKind, AttachmentPolicy,
    BlobKey, ByteRange, LinkGrant, SignedLink, Thumbnail, ThumbnailFacts, Variant, SNIFF_BYTES,
};
use crate::auth::Caller;
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::ids::{AttachmentId, UserId};
use crate::ports::{AttachmentRepo, BlobChunks, BlobStore, BlobWriter, LinkSigner, MediaInspector};
use crate::ErrorCode;
use std::sync::Arc;

/// How much of an image too large to decode is kept to read its size from its header.
const HEADER_BYTES: usize = 256 * 1024;
/// How many orphans one sweep step removes.
const SWEEP_BATCH: i64 = 100;

pub struct AttachmentService {
    attachments: Arc<dyn AttachmentRepo>,
    blobs: Arc<dyn BlobStore>,
    media: Arc<dyn MediaInspector>,
    links: Arc<dyn LinkSigner>,
    clock: Arc<dyn Clock>,
    policy: AttachmentPolicy,
}

/// An upload in progress. Feed it with `write`, then hand it to
/// `AttachmentService::finish_upload`, or to `abort_upload` when the client
/// gives up; dropped, it leaves nothing behind either.
///
/// While a file may still be a photo small enough to decode, its bytes are held
/// in memory and not yet written, so that the photo is stored only once its
/// metadata is gone; other files stream through.
pub struct Upload {
    id: AttachmentId,
    uploader: UserId,
    name: String,
    writer: Box<dyn BlobWriter>,
    size: u64,
    limit: u64,
    max_decode: usize,
    /// The first bytes, to tell the type; of an image, all of them while it may
    /// still be decoded for a thumbnail.
    kept: Vec<u8>,
    /// Still adding every chunk to `kept`, and holding them back from `writer`.
    keeping_all: bool,
    /// Known once `SNIFF_BYTES` have arrived (or at the end of a shorter file).
    mime_type: Option<String>,
    media: Arc<dyn MediaInspector>,
}

impl Upload {
    /// Stores the next chunk. Err(TooLarge `upload_too_large`) once the upload
    /// goes over `MAX_UPLOAD_SIZE`: then abort it.
    pub async fn write(&mut self, chunk: &[u8]) -> DomainResult<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(too_large(self.limit));
        }
        if !self.keeping_all {
            return self.writer.write(chunk).await;
        }
        self.kept.extend_from_slice(chunk);
        if self.mime_type.is_none() && self.kept.len() >= SNIFF_BYTES {
            let mime = self.media.sniff(&self.kept[..SNIFF_BYTES]);
            let image = AttachmentKind::of_mime(&mime) == AttachmentKind::Image;
            self.mime_type = Some(mime);
            if !image {
                // Not an image: nothing more to keep in memory.
                return self.stream_from_here(SNIFF_BYTES).await;
            }
        }
        if self.kept.len() > self.max_decode {
            // Too large to decode: keep only enough to read its size.
            return self.stream_from_here(HEADER_BYTES).await;
        }
        Ok(())
    }

    /// Writes what was held back, keeps its first `keep` bytes, and lets the
    /// rest of the file stream through.
    async fn stream_from_here(&mut self, keep: usize) -> DomainResult<()> {
        self.keeping_all = false;
        self.writer.write(&self.kept).await?;
        self.kept.truncate(keep);
        Ok(())
    }

    pub fn id(&self) -> AttachmentId {
        self.id
    }
}

fn too_large(limit: u64) -> DomainError {
    DomainError::too_large(ErrorCode::UploadTooLarge, format!("a file may be at most {limit} bytes (MAX_UPLOAD_SIZE)"))
}

/// A file someone may download, with what the response needs to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub attachment: Attachment,
    pub variant: Variant,
    pub mime_type: String,
    pub size: u64,
}

impl AttachmentService {
    pub fn new(ports: &Ports, policy: AttachmentPolicy) -> Self {
        Self {
            attachments: ports.attachments.clone(),
            blobs: ports.blobs.clone(),
            media: ports.media.clone(),
            links: ports.link_signer.clone(),
            clock: ports.clock.clone(),
            policy,
        }
    }

    pub fn policy(&self) -> AttachmentPolicy {
        self.policy
    }

    /// Starts an upload by the caller of a file the client called `file_name`.
    pub async fn begin_upload(&self, caller: Caller, file_name: Option<&str>) -> DomainResult<Upload> {
        let id = AttachmentId::new();
        let writer = self.blobs.put(&BlobKey::of(id, Variant::Original)).await?;
        Ok(Upload {
            id,
            uploader: caller.user_id,
            name: sanitize_file_name(file_name),
            writer,
            size: 0,
            limit: self.policy.max_upload_size,
            max_decode: self.policy.max_decode_bytes,
            kept: Vec::new(),
            keeping_all: true,
            mime_type: None,
            media: self.media.clone(),
        })
    }

    /// Discards an upload the client gave up on, or that went over the limit.
    pub async fn abort_upload(&self, upload: Upload) {
        let id = upload.id;
        if let Err(error) = upload.writer.abort().await {
            tracing::warn!(%error, attachment_id = %id, "could not discard an aborted upload");
        }
    }

    /// Completes an upload: tells its type from its bytes, measures and
    /// thumbnails an image, and stores its facts. An empty file is refused
    /// (`empty_file`) and nothing is kept.
    pub async fn finish_upload(&self, upload: Upload) -> DomainResult<AttachmentInfo> {
        let Upload { id, uploader, name, mut writer, mut size, mut kept, keeping_all, mime_type, .. } = upload;
        if size == 0 {
            let _ = writer.abort().await;
            return Err(DomainError::invalid(ErrorCode::EmptyFile, "the file is empty"));
        }
        let mime_type = mime_type.unwrap_or_else(|| self.media.sniff(&kept[..kept.len().min(SNIFF_BYTES)]));
        let mut kind = AttachmentKind::of_mime(&mime_type);
        if keeping_all {
            // The whole file is here, not written yet: a photo loses its metadata first.
            let held = async {
                if kind == AttachmentKind::Image {
                    kept = self.media.strip_metadata(std::mem::take(&mut kept)).await?;
                    size = kept.len() as u64;
                }
                write_held(writer.as_mut(), &kept).await
            };
            if let Err(error) = held.await {
                let _ = writer.abort().await;
                return Err(error);
            }
        }
        let mut facts = None;
        if kind == AttachmentKind::Image {
            facts = match self.media.inspect_image(kept, keeping_all).await {
                Ok(facts) => facts,
                Err(error) => {
                    let _ = writer.abort().await;
                    return Err(error);
                }
            };
            // Says it is an image, but is not one that can be read: a plain file.
            if facts.is_none() {
                kind = AttachmentKind::Document;
            }
        }
        if let Err(error) = writer.finish().await {
            self.discard(id).await;
            return Err(error);
        }
        let thumbnail = match facts.as_ref().and_then(|f| f.thumbnail.clone()) {
            Some(thumbnail) => self.store_thumbnail(id, thumbnail).await,
            None => None,
        };
        let attachment = Attachment {
            info: AttachmentInfo {
                id,
                kind,
                mime_type,
                name,
                size: i64::try_from(size).unwrap_or(i64::MAX),
                width: facts.as_ref().map(|f| to_i32(f.width)),
                height: facts.as_ref().map(|f| to_i32(f.height)),
                has_thumbnail: thumbnail.is_some(),
            },
            uploader_id: uploader,
            thumbnail,
            created_at: self.clock.now(),
        };
        if let Err(error) = self.attachments.insert_attachment(&attachment).await {
            self.discard(id).await;
            return Err(error);
        }
        tracing::info!(attachment_id = %id, kind = kind.as_str(), size, "upload stored");
        Ok(attachment.info)
    }

    /// Stores a thumbnail; None (no thumbnail) when that fails, which the
    /// original survives.
    async fn store_thumbnail(&self, id: AttachmentId, thumbnail: Thumbnail) -> Option<ThumbnailFacts> {
        let key = BlobKey::of(id, Variant::Thumbnail);
        let stored = async {
            let mut writer = self.blobs.put(&key).await?;
            writer.write(&thumbnail.bytes).await?;
            writer.finish().await
        }
        .await;
        match stored {
            Ok(()) => Some(ThumbnailFacts {
                mime_type: thumbnail.mime_type,
                size: i64::try_from(thumbnail.bytes.len()).unwrap_or(i64::MAX),
            }),
            Err(error) => {
                tracing::warn!(%error, attachment_id = %id, "could not store a thumbnail; the image has none");
                None
            }
        }
    }

    /// Removes the bytes of an attachment (original and thumbnail).
    async fn discard(&self, id: AttachmentId) {
        discard_blobs(self.blobs.as_ref(), id).await;
    }

    /// The file (original or thumbnail) of an attachment the caller may see: the
    /// uploader, or a member of a chat where it was sent. Everyone else is told
    /// it does not exist (NotFound `attachment_not_found`), so ids cannot be probed.
    pub async fn open(&self, caller: Caller, id: AttachmentId, variant: Variant) -> DomainResult<Download> {
        self.open_as(caller.user_id, id, variant).await
    }

    /// A signed link to an attachment the caller may see, working for
    /// `link_ttl`; the same answers as `open` otherwise.
    pub async fn issue_link(&self, caller: Caller, id: AttachmentId) -> DomainResult<SignedLink> {
        let download = self.open_as(caller.user_id, id, Variant::Original).await?;
        // Rounded up to a whole second: a link works at least `link_ttl`.
        let until = self.clock.now() + self.policy.link_ttl;
        let expires_at = until.timestamp() + i64::from(until.timestamp_subsec_nanos() > 0);
        let grant = LinkGrant { attachment_id: id, user_id: caller.user_id, expires_at };
        let signature = self.links.sign(&grant.signed_text());
        Ok(SignedLink { grant, signature, has_thumbnail: download.attachment.info.has_thumbnail })
    }

    /// The file a signed link names, if its signature is good, it has not
    /// expired, and its user may still see the attachment now (the rule of
    /// `open`: a message deleted for everyone or history cut by leaving ends it).
    /// A bad signature is NotFound `attachment_not_found`, as for anything the
    /// caller may not see; an expired one Forbidden `link_expired`, so that a
    /// client knows to ask for a fresh link.
    pub async fn open_link(&self, grant: LinkGrant, signature: &str, variant: Variant) -> DomainResult<Download> {
        if !self.links.verify(&grant.signed_text(), signature) {
            return Err(attachment_not_found());
        }
        if grant.is_expired(self.clock.now()) {
            return Err(DomainError::forbidden(ErrorCode::LinkExpired, "this link has expired; ask for a new one"));
        }
        self.open_as(grant.user_id, grant.attachment_id, variant).await
    }

    /// The one access rule: the uploader, or a member of a chat where it was sent.
    async fn open_as(&self, reader: UserId, id: AttachmentId, variant: Variant) -> DomainResult<Download> {
        let attachment = self.attachments.get_attachment(id).await?.ok_or_else(attachment_not_found)?;
        if attachment.uploader_id != reader && !self.attachments.can_read_attachment(id, reader).await? {
            return Err(attachment_not_found());
        }
        let (mime_type, size) = match variant {
            Variant::Original => (attachment.info.mime_type.clone(), attachment.info.size),
            Variant::Thumbnail => {
                let thumbnail = attachment.thumbnail.as_ref().ok_or_else(|| {
                    DomainError::not_found(ErrorCode::ThumbnailNotFound, "this attachment has no thumbnail")
                })?;
                (thumbnail.mime_type.clone(), thumbnail.size)
            }
        };
        Ok(Download { attachment, variant, mime_type, size: u64::try_from(size).unwrap_or_default() })
    }

    /// The bytes of an opened file, all or `range`.
    pub async fn read(&self, download: &Download, range: Option<ByteRange>) -> DomainResult<Box<dyn BlobChunks>> {
        let key = BlobKey::of(download.attachment.id(), download.variant);
        match self.blobs.get(&key, range).await? {
            Some(chunks) => Ok(chunks),
            None => {
                tracing::error!(key = key.as_str(), "an attachment's bytes are missing from the blob store");
                Err(attachment_not_found())
            }
        }
    }

    /// Removes uploads that no message carries once they are `orphan_ttl` old
    /// (never sent, or sent in messages since deleted). Returns how many.
    pub async fn sweep_orphans(&self) -> DomainResult<usize> {
        let before = self.clock.now() - self.policy.orphan_ttl;
        let mut removed = 0;
        loop {
            let batch = self.attachments.remove_orphans(before, SWEEP_BATCH).await?;
            for attachment in &batch {
                discard_blobs(self.blobs.as_ref(), attachment.id()).await;
            }
            removed += batch.len();
            if batch.len() < usize::try_from(SWEEP_BATCH).unwrap_or_default() {
                break;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed uploads that were never sent");
        }
        Ok(removed)
    }
}

/// How much of a held file goes to the blob store at once.
const HELD_WRITE_CHUNK: usize = 1024 * 1024;

async fn write_held(writer: &mut dyn BlobWriter, bytes: &[u8]) -> DomainResult<()> {
    for chunk in bytes.chunks(HELD_WRITE_CHUNK) {
        writer.write(chunk).await?;
    }
    Ok(())
}

fn to_i32(pixels: u32) -> i32 {
    i32::try_from(pixels).unwrap_or(i32::MAX)
}

/// Removes both blobs of an attachment, logging failures (a blob left behind
/// only costs space).
async fn discard_blobs(blobs: &dyn BlobStore, id: AttachmentId) {
    for variant in [Variant::Original, Variant::Thumbnail] {
        if let Err(error) = blobs.delete(&BlobKey::of(id, variant)).await {
            tracing::warn!(%error, attachment_id = %id, "could not remove an attachment's file");
        }
    }
}

/// After a message was deleted for everyone: removes those of its attachments
/// that no other message carries (a forwarded copy keeps its file), facts first
/// and then bytes. Failures are only logged; the orphan sweep retries.
pub(crate) async fn release(attachments: &dyn AttachmentRepo, blobs: &dyn BlobStore, ids: &[AttachmentId]) {
    if ids.is_empty() {
        return;
    }
    match attachments.remove_unreferenced(ids).await {
        Ok(removed) => {
            for attachment in removed {
                discard_blobs(blobs, attachment.id()).await;
            }
        }
        Err(error) => tracing::warn!(%error, "could not release the attachments of a deleted message"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attachment::ImageFacts;
    use crate::services::test_support::{caller, ports, MockSet};
    use chrono::{Duration, Utc};
    use std::sync::Mutex;

    fn facts(width: u32, height: u32, thumbnail: bool) -> ImageFacts {
        ImageFacts {
            width,
            height,
            thumbnail: thumbnail.then(|| Thumbnail { mime_type: "image/jpeg".into(), bytes: vec![1, 2, 3] }),
        }
    }

    /// What a test blob store was asked to do.
    #[derive(Default)]
    struct Journal {
        written: Vec<(String, usize)>,
        finished: Vec<String>,
        aborted: Vec<String>,
        deleted: Vec<String>,
    }

    struct TestWriter {
        key: String,
        journal: Arc<Mutex<Journal>>,
    }

    #[async_trait::async_trait]
    impl BlobWriter for TestWriter {
        async fn write(&mut self, chunk: &[u8]) -> DomainResult<()> {
            self.journal.lock().unwrap().written.push((self.key.clone(), chunk.len()));
            Ok(())
        }
        async fn finish(self: Box<Self>) -> DomainResult<()> {
            self.journal.lock().unwrap().finished.push(self.key.clone());
            Ok(())
        }
        async fn abort(self: Box<Self>) -> DomainResult<()> {
            self.journal.lock().unwrap().aborted.push(self.key.clone());
            Ok(())
        }
    }

    /// A blob store that records what it is asked into `journal`.
    fn journaled(m: &mut MockSet) -> Arc<Mutex<Journal>> {
        let journal = Arc::new(Mutex::new(Journal::default()));
        let for_put = journal.clone();
        m.blobs.expect_put().returning(move |key| {
            Ok(Box::new(TestWriter { key: key.as_str().to_owned(), journal: for_put.clone() }) as Box<dyn BlobWriter>)
        });
        let for_delete = journal.clone();
        m.blobs.expect_delete().returning(move |key| {
            for_delete.lock().unwrap().deleted.push(key.as_str().to_owned());
            Ok(())
        });
        journal
    }

    fn policy(max_upload_size: u64) -> AttachmentPolicy {
        AttachmentPolicy { max_upload_size, ..AttachmentPolicy::default() }
    }

    fn service(m: MockSet, policy: AttachmentPolicy) -> AttachmentService {
        AttachmentService::new(&ports(m), policy)
    }

    fn stored(uploader: UserId, kind: AttachmentKind) -> Attachment {
        Attachment {
            info: AttachmentInfo {
                id: AttachmentId::new(),
                kind,
                mime_type: "image/png".into(),
                name: "a.png".into(),
                size: 10,
                width: None,
                height: None,
                has_thumbnail: false,
            },
            uploader_id: uploader,
            thumbnail: None,
            created_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn an_upload_over_the_limit_is_refused_while_streaming_and_nothing_is_stored() {
        let mut m = MockSet::new(Utc::now());
        let journal = journaled(&mut m);
        m.media.expect_sniff().returning(|_| "application/pdf".into());
        m.attachments.expect_insert_attachment().never();
        let service = service(m, policy(10));
        let mut upload = service.begin_upload(caller(), Some("big.pdf")).await.unwrap();
        upload.write(&[0; 6]).await.unwrap();
        let err = upload.write(&[0; 6]).await.unwrap_err();
        assert_eq!(err.code(), "upload_too_large");
        assert!(matches!(err, DomainError::TooLarge { .. }));
        service.abort_upload(upload).await;
        let journal = journal.lock().unwrap();
        assert!(journal.written.is_empty(), "the chunk over the limit is not written: {:?}", journal.written);
        assert_eq!(journal.aborted.len(), 1);
        assert!(journal.finished.is_empty());
    }

    #[tokio::test]
    async fn the_type_comes_from_the_bytes_not_the_name() {
        let me = caller();
        let mut m = MockSet::new(Utc::now());
        journaled(&mut m);
        m.media.expect_sniff().returning(|head| {
            assert!(head.starts_with(b"%PDF"));
            "application/pdf".into()
        });
        m.media.expect_inspect_image().never();
        m.attachments
            .expect_insert_attachment()
            .withf(move |a| a.uploader_id == me.user_id && a.info.mime_type == "application/pdf")
            .times(1)
            .returning(|_| Ok(()));
        let service = service(m, AttachmentPolicy::default());
        let mut upload = service.begin_upload(me, Some("holiday.png")).await.unwrap();
        upload.write(b"%PDF-1.7 not a picture").await.unwrap();
        let info = service.finish_upload(upload).await.unwrap();
        assert_eq!((info.kind, info.mime_type.as_str()), (AttachmentKind::Document, "application/pdf"));
        assert_eq!(info.name, "holiday.png", "the name is kept, the type is not believed");
        assert_eq!((info.width, info.has_thumbnail), (None, false));
    }

    #[tokio::test]
    async fn an_image_gets_its_size_and_a_stored_thumbnail() {
        let mut m = MockSet::new(Utc::now());
        let journal = journaled(&mut m);
        m.media.expect_sniff().returning(|_| "image/png".into());
        // The metadata (here the last 1,000 bytes) goes before anything is stored.
        m.media.expect_strip_metadata().times(1).returning(|mut bytes| {
            bytes.truncate(19_000);
            Ok(bytes)
        });
        m.media
            .expect_inspect_image()
            .withf(|bytes, complete| bytes.len() == 19_000 && *complete)
            .times(1)
            .returning(|_, _| Ok(Some(facts(640, 480, true))));
        m.attachments
            .expect_insert_attachment()
            .withf(|a| {
                a.info.size == 19_000
                    && a.thumbnail.as_ref().is_some_and(|t| t.mime_type == "image/jpeg" && t.size == 3)
            })
            .returning(|_| Ok(()));
        let service = service(m, AttachmentPolicy::default());
        let mut upload = service.begin_upload(caller(), Some("cat.png")).await.unwrap();
        for _ in 0..4 {
            upload.write(&[7; 5_000]).await.unwrap();
        }
        let info = service.finish_upload(upload).await.unwrap();
        assert_eq!(
            (info.kind, info.width, info.height, info.has_thumbnail),
            (AttachmentKind::Image, Some(640), Some(480), true)
        );
        let journal = journal.lock().unwrap();
        assert_eq!(journal.finished.len(), 2, "the original and its thumbnail: {:?}", journal.finished);
        assert!(journal.finished[1].starts_with("thumbnails/"));
        let original: usize =
            journal.written.iter().filter(|(key, _)| key.starts_with("originals/")).map(|(_, n)| n).sum();
        assert_eq!(original, 19_000, "only the stripped bytes are stored");
    }

    #[tokio::test]
    async fn a_file_that_is_not_an_image_streams_through_unchanged() {
        let mut m = MockSet::new(Utc::now());
        let journal = journaled(&mut m);
        m.media.expect_sniff().returning(|_| "application/pdf".into());
        m.media.expect_strip_metadata().never();
        m.attachments.expect_insert_attachment().withf(|a| a.info.size == 30_000).returning(|_| Ok(()));
        let service = service(m, AttachmentPolicy::default());
        let mut upload = service.begin_upload(caller(), Some("report.pdf")).await.unwrap();
        for _ in 0..3 {
            upload.write(&[7; 10_000]).await.unwrap();
        }
        let streamed: usize = journal.lock().unwrap().written.iter().map(|(_, n)| n).sum();
        assert_eq!(streamed, 30_000, "written as it arrives, before the upload ends");
        service.finish_upload(upload).await.unwrap();
    }

    #[tokio::test]
    async fn an_image_too_large_to_decode_is_measured_from_its_header_only() {
        let mut m = MockSet::new(Utc::now());
        journaled(&mut m);
        m.media.expect_sniff().returning(|_| "image/jpeg".into());
        m.media
            .expect_inspect_image()
            .withf(|bytes, complete| bytes.len() <= HEADER_BYTES && !*complete)
            .times(1)
            .returning(|_, _| Ok(Some(facts(8000, 6000, false))));
        m.attachments.expect_insert_attachment().returning(|_| Ok(()));
        let policy = AttachmentPolicy { max_decode_bytes: 300_000, ..AttachmentPolicy::default() };
        let service = service(m, policy);
        let mut upload = service.begin_upload(caller(), None).await.unwrap();
        for _ in 0..4 {
            upload.write(&[1; 100_000]).await.unwrap();
        }
        let info = service.finish_upload(upload).await.unwrap();
        assert_eq!((info.width, info.has_thumbnail, info.name.as_str()), (Some(8000), false, "file"));
    }

    #[tokio::test]
    async fn an_image_that_cannot_be_read_is_a_document() {
        let mut m = MockSet::new(Utc::now());
        journaled(&mut m);
        m.media.expect_sniff().returning(|_| "image/png".into());
        m.media.expect_strip_metadata().returning(Ok);
        m.media.expect_inspect_image().returning(|_, _| Ok(None));
        m.attachments.expect_insert_attachment().returning(|_| Ok(()));
        let service = service(m, AttachmentPolicy::default());
        let mut upload = service.begin_upload(caller(), Some("broken.png")).await.unwrap();
        upload.write(b"\x89PNG\r\n\x1a\n and then nothing").await.unwrap();
        assert_eq!(service.finish_upload(upload).await.unwrap().kind, AttachmentKind::Document);
    }

    #[tokio::test]
    async fn an_image_the_server_is_too_busy_to_decode_is_refused_and_discarded() {
        let mut m = MockSet::new(Utc::now());
        let journal = journaled(&mut m);
        m.media.expect_sniff().returning(|_| "image/png".into());
        m.media.expect_strip_metadata().returning(Ok);
        m.media.expect_inspect_image().returning(|_, _| Err(DomainError::busy(ErrorCode::MediaBusy, "busy")));
        m.attachments.expect_insert_attachment().never();
        let service = service(m, AttachmentPolicy::default());
        let mut upload = service.begin_upload(caller(), Some("huge.png")).await.unwrap();
        upload.write(b"\x89PNG\r\n\x1a\n pixels").await.unwrap();
        let error = service.finish_upload(upload).await.unwrap_err();
        assert!(matches!(error, DomainError::Busy { code: ErrorCode::MediaBusy, .. }), "{error:?}");
        let journal = journal.lock().unwrap();
        assert_eq!((journal.aborted.len(), journal.finished.len()), (1, 0), "nothing is kept");
    }

    #[tokio::test]
    async fn an_empty_file_is_refused_and_discarded() {
        let mut m = MockSet::new(Utc::now());
        let journal = journaled(&mut m);
        m.attachments.expect_insert_attachment().never();
        let service = service(m, AttachmentPolicy::default());
        let upload = service.begin_upload(caller(), Some("empty.txt")).await.unwrap();
        assert_eq!(service.finish_upload(upload).await.unwrap_err().code(), "empty_file");
        assert_eq!(journal.lock().unwrap().aborted.len(), 1);
    }

    #[tokio::test]
    async fn when_the_facts_cannot_be_stored_the_bytes_go_too() {
        let mut m = MockSet::new(Utc::now());
        let journal = journaled(&mut m);
        m.media.expect_sniff().returning(|_| "text/plain".into());
        m.attachments.expect_insert_attachment().returning(|_| Err(DomainError::unavailable("db down")));
        let service = service(m, AttachmentPolicy::default());
        let mut upload = service.begin_upload(caller(), Some("notes.txt")).await.unwrap();
        upload.write(b"hello").await.unwrap();
        assert!(service.finish_upload(upload).await.is_err());
        assert_eq!(journal.lock().unwrap().deleted.len(), 2, "original and thumbnail keys");
    }

    /// The repository has `attachment`.
    fn exists(m: &mut MockSet, attachment: &Attachment) {
        let found = attachment.clone();
        m.attachments.expect_get_attachment().returning(move |_| Ok(Some(found.clone())));
    }

    #[tokio::test]
    async fn the_uploader_may_download_before_sending() {
        let me = caller();
        let mine = stored(me.user_id, AttachmentKind::Image);
        let mut m = MockSet::new(Utc::now());
        exists(&mut m, &mine);
        m.attachments.expect_can_read_attachment().never();
        let download = service(m, AttachmentPolicy::default()).open(me, mine.id(), Variant::Original).await.unwrap();
        assert_eq!((download.size, download.mime_type.as_str()), (10, "image/png"));
    }

    #[tokio::test]
    async fn a_stranger_is_told_the_attachment_does_not_exist() {
        let theirs = stored(UserId::new(), AttachmentKind::Image);
        let mut m = MockSet::new(Utc::now());
        exists(&mut m, &theirs);
        m.attachments.expect_can_read_attachment().returning(|_, _| Ok(false));
        let err = service(m, AttachmentPolicy::default()).open(caller(), theirs.id(), Variant::Original).await;
        assert_eq!(err.unwrap_err().code(), "attachment_not_found");
    }

    #[tokio::test]
    async fn a_member_of_a_chat_where_it_was_sent_may_download_but_not_a_missing_thumbnail() {
        let theirs = stored(UserId::new(), AttachmentKind::Document);
        let mut m = MockSet::new(Utc::now());
        exists(&mut m, &theirs);
        m.attachments.expect_can_read_attachment().returning(|_, _| Ok(true));
        let service = service(m, AttachmentPolicy::default());
        assert!(service.open(caller(), theirs.id(), Variant::Original).await.is_ok());
        let err = service.open(caller(), theirs.id(), Variant::Thumbnail).await.unwrap_err();
        assert_eq!(err.code(), "thumbnail_not_found");
    }

    /// A signer whose signature of a text is the text reversed.
    fn reversing_signer(m: &mut MockSet) {
        m.links.expect_sign().returning(|text| text.chars().rev().collect());
        m.links.expect_verify().returning(|text, signature| signature == text.chars().rev().collect::<String>());
    }

    #[tokio::test]
    async fn a_link_is_issued_only_for_what_the_caller_may_see_and_lasts_the_policy_ttl() {
        let now = Utc::now();
        let me = caller();
        let theirs = stored(UserId::new(), AttachmentKind::Video);
        let mut m = MockSet::new(now);
        exists(&mut m, &theirs);
        reversing_signer(&mut m);
        let mut sequence = mockall::Sequence::new();
        m.attachments.expect_can_read_attachment().times(1).in_sequence(&mut sequence).returning(|_, _| Ok(true));
        m.attachments.expect_can_read_attachment().times(1).in_sequence(&mut sequence).returning(|_, _| Ok(false));
        let policy = AttachmentPolicy { link_ttl: Duration::minutes(5), ..AttachmentPolicy::default() };
        let service = service(m, policy);
        let link = service.issue_link(me, theirs.id()).await.unwrap();
        assert_eq!(link.grant.user_id, me.user_id);
        let until = now + Duration::minutes(5);
        assert_eq!(link.grant.expires_at, until.timestamp() + i64::from(until.timestamp_subsec_nanos() > 0));
        assert_eq!(link.signature, link.grant.signed_text().chars().rev().collect::<String>());
        let refused = service.issue_link(me, theirs.id()).await.unwrap_err();
        assert_eq!(refused.code(), "attachment_not_found");
    }

    #[tokio::test]
    async fn a_link_opens_while_signed_unexpired_and_its_user_may_still_read() {
        let now = Utc::now();
        let theirs = stored(UserId::new(), AttachmentKind::Video);
        let reader = UserId::new();
        let mut m = MockSet::new(now);
        exists(&mut m, &theirs);
        reversing_signer(&mut m);
        let mut sequence = mockall::Sequence::new();
        m.attachments
            .expect_can_read_attachment()
            .withf(move |_, user| *user == reader)
            .times(1)
            .in_sequence(&mut sequence)
            .returning(|_, _| Ok(true));
        // Then the message is deleted for everyone.
        m.attachments.expect_can_read_attachment().times(1).in_sequence(&mut sequence).returning(|_, _| Ok(false));
        let service = service(m, AttachmentPolicy::default());
        let grant = LinkGrant { attachment_id: theirs.id(), user_id: reader, expires_at: now.timestamp() + 60 };
        let signature: String = grant.signed_text().chars().rev().collect();
        assert!(service.open_link(grant, &signature, Variant::Original).await.is_ok());
        let ended = service.open_link(grant, &signature, Variant::Original).await.unwrap_err();
        assert_eq!(ended.code(), "attachment_not_found", "access is checked at every request");

        let someone_else = LinkGrant { user_id: UserId::new(), ..grant };
        let forged = service.open_link(someone_else, &signature, Variant::Original).await.unwrap_err();
        assert_eq!(forged.code(), "attachment_not_found", "the signature names its user");
        let expired = LinkGrant { expires_at: now.timestamp(), ..grant };
        let signature: String = expired.signed_text().chars().rev().collect();
        let late = service.open_link(expired, &signature, Variant::Original).await.unwrap_err();
        assert_eq!(late.code(), "link_expired");
    }

    #[tokio::test]
    async fn the_sweep_removes_old_orphans_with_their_files() {
        let now = Utc::now();
        let mut m = MockSet::new(now);
        let journal = journaled(&mut m);
        let orphan = stored(UserId::new(), AttachmentKind::Video);
        let id = orphan.id();
        m.attachments
            .expect_remove_orphans()
            .withf(move |before, _| *before == now - Duration::hours(24))
            .times(1)
            .returning(move |_, _| Ok(vec![orphan.clone()]));
        assert_eq!(service(m, AttachmentPolicy::default()).sweep_orphans().await.unwrap(), 1);
        let deleted = journal.lock().unwrap().deleted.clone();
        assert_eq!(deleted, vec![format!("originals/{id}"), format!("thumbnails/{id}")]);
    }
}
