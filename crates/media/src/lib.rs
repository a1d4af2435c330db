//! The `MediaInspector` port: what a file is, from its bytes (`infer`), and
//! the size and a thumbnail of an image (`image`, with only the JPEG, PNG, GIF
//! and WebP codecs, decoding under limits so that a small file that unpacks to
//! a huge bitmap cannot exhaust memory).

mod sniff;
mod thumbnail;

use async_trait::async_trait;
use chitchat_domain::attachment::ImageFacts;
use chitchat_domain::ports::MediaInspector;

pub use thumbnail::{MAX_DECODED_BYTES, MAX_PIXELS};

/// The media inspector the server uses.
#[derive(Debug, Default, Clone, Copy)]
pub struct Media;

#[async_trait]
impl MediaInspector for Media {
    fn sniff(&self, head: &[u8]) -> String {
        sniff::mime_type(head)
    }

    async fn inspect_image(&self, bytes: Vec<u8>, complete: bool) -> Option<ImageFacts> {
        if !complete {
            return thumbnail::dimensions(&bytes).map(|(width, height)| ImageFacts { width, height, thumbnail: None });
        }
        // Decoding is CPU work: off the async workers.
        match tokio::task::spawn_blocking(move || thumbnail::inspect(&bytes)).await {
            Ok(facts) => facts,
            Err(error) => {
                tracing::warn!(%error, "image decoding stopped");
                None
            }
        }
    }
}
