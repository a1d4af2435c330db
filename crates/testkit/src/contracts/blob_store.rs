//! The blob store contract: what every `BlobStore` adapter must do.

use chitchat_domain::attachment::{BlobKey, ByteRange};
use chitchat_domain::ports::{BlobChunks, BlobStore};

/// A payload of `len` bytes that differ from place to place, so that a misplaced
/// range shows.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn key(name: &str) -> BlobKey {
    BlobKey::raw(format!("contract/{name}-{}", uuid::Uuid::new_v4().simple()))
}

/// Every chunk of a read, joined.
pub async fn read_all(mut chunks: Box<dyn BlobChunks>) -> Vec<u8> {
    let mut all = Vec::new();
    while let Some(chunk) = chunks.next_chunk().await.expect("chunk") {
        all.extend_from_slice(&chunk);
    }
    all
}

/// Writes `bytes` under `key` in chunks of `chunk` bytes.
pub async fn store<B: BlobStore>(blobs: &B, key: &BlobKey, bytes: &[u8], chunk: usize) {
    let mut writer = blobs.put(key).await.expect("put");
    for part in bytes.chunks(chunk) {
        writer.write(part).await.expect("write");
    }
    writer.finish().await.expect("finish");
}

pub async fn blobs_written_in_chunks_read_back_whole<B: BlobStore>(blobs: B) {
    // Over object_store's 5 MiB part size: a multipart upload of several parts.
    let bytes = pattern(6 * 1024 * 1024 + 123);
    let key = key("big");
    store(&blobs, &key, &bytes, 64 * 1024).await;
    assert_eq!(blobs.size(&key).await.unwrap(), Some(bytes.len() as u64));
    let read = read_all(blobs.get(&key, None).await.unwrap().expect("stored")).await;
    assert!(read == bytes, "read back {} bytes, wrote {}", read.len(), bytes.len());
}

pub async fn blobs_read_the_range_asked_for<B: BlobStore>(blobs: B) {
    let bytes = pattern(10_000);
    let key = key("ranged");
    store(&blobs, &key, &bytes, 3_000).await;
    for (start, end) in [(0, 1), (10, 20), (2_999, 3_001), (9_000, 10_000)] {
        let range = ByteRange { start, end };
        let read = read_all(blobs.get(&key, Some(range)).await.unwrap().expect("stored")).await;
        assert_eq!(read, bytes[start as usize..end as usize], "range {start}..{end}");
    }
}

pub async fn blobs_unknown_are_none<B: BlobStore>(blobs: B) {
    let key = key("never");
    assert!(blobs.get(&key, None).await.unwrap().is_none());
    assert_eq!(blobs.size(&key).await.unwrap(), None);
}

pub async fn blobs_are_invisible_until_finished_and_aborted_ones_never_appear<B: BlobStore>(blobs: B) {
    let key = key("aborted");
    let mut writer = blobs.put(&key).await.unwrap();
    writer.write(&pattern(1_000)).await.unwrap();
    assert_eq!(blobs.size(&key).await.unwrap(), None, "nothing readable before finish");
    writer.abort().await.unwrap();
    assert_eq!(blobs.size(&key).await.unwrap(), None, "nothing after abort");
}

pub async fn blobs_deleted_are_gone_and_deleting_again_is_fine<B: BlobStore>(blobs: B) {
    let (kept, deleted) = (key("kept"), key("deleted"));
    store(&blobs, &kept, b"keep me", 4).await;
    store(&blobs, &deleted, b"delete me", 4).await;
    blobs.delete(&deleted).await.unwrap();
    assert!(blobs.get(&deleted, None).await.unwrap().is_none());
    blobs.delete(&deleted).await.expect("deleting a missing blob is no error");
    let read = read_all(blobs.get(&kept, None).await.unwrap().expect("other blobs stay")).await;
    assert_eq!(read, b"keep me");
}

pub async fn blobs_overwritten_hold_the_new_bytes<B: BlobStore>(blobs: B) {
    let key = key("again");
    store(&blobs, &key, b"first version", 5).await;
    store(&blobs, &key, b"second", 5).await;
    assert_eq!(read_all(blobs.get(&key, None).await.unwrap().unwrap()).await, b"second");
}
