//! The `MediaInspector` port: what a file is, from its bytes (`infer`), and
//! the size and a thumbnail of an image (`image`, with only the JPEG, PNG, GIF
//! and WebP codecs, decoding under limits so that a small file that unpacks to
//! a huge bitmap cannot exhaust memory), and photos without their metadata
//! (`strip`: `img-parts` and `kamadak-exif`, no decoding).
//!
//! Decoding is bounded for the whole process, not only per image: a few
//! decodes at a time per core, and a memory budget that every decode reserves
//! its estimated cost from before it starts. An image that would not fit the
//! budget even alone is measured, not decoded; when the budget is taken by
//! others for longer than `QUEUE_WAIT`, the upload is refused as busy.

mod png_rows;
mod sniff;
mod strip;
mod thumbnail;

#[cfg(test)]
mod test_images {
    #![allow(clippy::unwrap_used)]

    /// `image` encoded as PNG.
    pub(crate) fn png(image: image::DynamicImage) -> Vec<u8> {
        let mut bytes = Vec::new();
        image.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        bytes
    }
}

use async_trait::async_trait;
use chitchat_domain::attachment::ImageFacts;
use chitchat_domain::ports::MediaInspector;
use chitchat_domain::ErrorCode;
use chitchat_domain::{DomainError, DomainResult};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use thumbnail::{MAX_DECODED_BYTES, MAX_PIXELS};

/// The default memory budget for decoding images (`THUMBNAIL_MEMORY_BUDGET`).
pub const DEFAULT_MEMORY_BUDGET: u64 = 256 * 1024 * 1024;
/// Decodes at once per core: they are CPU work.
const DECODES_PER_CORE: usize = 2;
/// How long an upload waits for its share of the budget before it is refused.
const QUEUE_WAIT: Duration = Duration::from_secs(5);
/// The budget is counted in KiB, so that any budget fits the semaphore's permits.
const UNIT: u64 = 1024;

/// The media inspector the server uses.
#[derive(Debug, Clone)]
pub struct Media {
    budget_units: u32,
    memory: Arc<Semaphore>,
    decodes: Arc<Semaphore>,
    queue_wait: Duration,
}

impl Default for Media {
    fn default() -> Self {
        Self::new(DEFAULT_MEMORY_BUDGET)
    }
}

/// What one decode holds while it runs.
struct Reservation {
    _memory: OwnedSemaphorePermit,
    _decode: OwnedSemaphorePermit,
}

impl Media {
    /// Decodes images within `memory_budget` bytes in all.
    pub fn new(memory_budget: u64) -> Self {
        let budget_units = u32::try_from(memory_budget / UNIT).unwrap_or(u32::MAX).max(1);
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            budget_units,
            memory: Arc::new(Semaphore::new(budget_units as usize)),
            decodes: Arc::new(Semaphore::new(cores * DECODES_PER_CORE)),
            queue_wait: QUEUE_WAIT,
        }
    }

    /// Waits (up to `QUEUE_WAIT`) for a decode slot and `units` of the budget.
    async fn reserve(&self, units: u32) -> DomainResult<Reservation> {
        let waiting = async {
            let decode = self.decodes.clone().acquire_owned().await.ok()?;
            let memory = self.memory.clone().acquire_many_owned(units).await.ok()?;
            Some(Reservation { _memory: memory, _decode: decode })
        };
        match tokio::time::timeout(self.queue_wait, waiting).await {
            Ok(Some(reservation)) => Ok(reservation),
            Ok(None) => Err(DomainError::unavailable("the image decoding budget is closed")),
            Err(_) => {
                tracing::warn!(wanted_kib = units, budget_kib = self.budget_units, "image decoding budget exhausted");
                metrics::counter!("chitchat_image_decodes_refused_total").increment(1);
                Err(DomainError::busy(ErrorCode::MediaBusy, "too many images are being processed; try again shortly"))
            }
        }
    }
}

#[async_trait]
impl MediaInspector for Media {
    fn sniff(&self, head: &[u8]) -> String {
        sniff::mime_type(head)
    }

    async fn inspect_image(&self, bytes: Vec<u8>, complete: bool) -> DomainResult<Option<ImageFacts>> {
        let Some((width, height)) = thumbnail::dimensions(&bytes) else { return Ok(None) };
        let measured = ImageFacts { width, height, thumbnail: None };
        if !complete || u64::from(width) * u64::from(height) > MAX_PIXELS {
            return Ok(Some(measured));
        }
        let Some(cost) = thumbnail::decode_cost(&bytes) else { return Ok(None) };
        let units = u32::try_from(cost.div_ceil(UNIT)).unwrap_or(u32::MAX);
        if units > self.budget_units {
            tracing::info!(width, height, cost, "image too large for the decoding budget; no thumbnail");
            return Ok(Some(measured));
        }
        let reservation = self.reserve(units).await?;
        // Decoding is CPU work: off the async workers; the reservation lasts as long.
        let decoded = tokio::task::spawn_blocking(move || {
            let facts = thumbnail::inspect(&bytes);
            drop(reservation);
            facts
        })
        .await;
        match decoded {
            Ok(facts) => Ok(facts),
            Err(error) => {
                tracing::warn!(%error, "image decoding stopped");
                Ok(None)
            }
        }
    }

    async fn strip_metadata(&self, bytes: Vec<u8>) -> DomainResult<Vec<u8>> {
        // No decoding, but a copy of up to the whole photo: off the async workers.
        tokio::task::spawn_blocking(move || strip::strip(bytes))
            .await
            .map_err(|error| DomainError::unavailable_at("stripping a photo's metadata", error))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use image::codecs::jpeg::JpegEncoder;
    use image::{DynamicImage, ImageFormat, RgbImage};
    use std::io::Cursor;

    /// A JPEG is decoded whole: 1000 x 1000 is a 3 MB bitmap, 4.5 MB estimated.
    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        JpegEncoder::new(&mut bytes).encode_image(&RgbImage::new(width, height)).unwrap();
        bytes
    }

    #[tokio::test]
    async fn an_image_within_the_budget_gets_a_thumbnail() {
        let media = Media::new(8 * 1024 * 1024);
        let facts = media.inspect_image(jpeg(1000, 1000), true).await.unwrap().unwrap();
        assert_eq!((facts.width, facts.height), (1000, 1000));
        assert!(facts.thumbnail.is_some());
    }

    #[tokio::test]
    async fn an_image_larger_than_the_whole_budget_is_only_measured() {
        let media = Media::new(4 * 1024 * 1024);
        let facts = media.inspect_image(jpeg(1000, 1000), true).await.unwrap().unwrap();
        assert_eq!((facts.width, facts.height, facts.thumbnail), (1000, 1000, None));
    }

    #[tokio::test]
    async fn a_large_png_needs_little_of_the_budget_as_it_is_read_row_by_row() {
        // 4000 x 3000 RGB: a 36 MB bitmap, in a budget of 4 MiB.
        let mut png = Vec::new();
        DynamicImage::ImageRgb8(RgbImage::new(4000, 3000))
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let facts = Media::new(4 * 1024 * 1024).inspect_image(png, true).await.unwrap().unwrap();
        assert!(facts.thumbnail.is_some());
    }

    #[tokio::test]
    async fn a_decode_waits_for_the_budget_others_hold_and_is_refused_as_busy_when_it_stays_taken() {
        let media = Media { queue_wait: Duration::from_millis(200), ..Media::new(8 * 1024 * 1024) };
        let held = media.memory.clone().acquire_many_owned(media.budget_units).await.unwrap();
        let error = media.inspect_image(jpeg(1000, 1000), true).await.unwrap_err();
        assert!(matches!(error, DomainError::Busy { code: ErrorCode::MediaBusy, .. }), "{error:?}");
        drop(held);
        assert!(media.inspect_image(jpeg(1000, 1000), true).await.unwrap().unwrap().thumbnail.is_some());
    }
}
