//! Files people send: photos, videos, voice notes and documents. An upload is
//! stored first (bytes in the blob store, facts about it in the attachment
//! repository) and sent afterwards, by id, in one message or several.

mod link;
mod name;
pub(crate) mod rules;

pub use link::{LinkGrant, SignedLink, DEFAULT_LINK_TTL};
pub use name::sanitize_file_name;
pub use rules::{check_for_send, AttachmentPolicy, MAX_ATTACHMENTS_PER_MESSAGE};

use crate::ids::{AttachmentId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many leading bytes of an upload decide its type.
pub const SNIFF_BYTES: usize = 8 * 1024;
/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_MAX_SIDE: u32 = 320;

/// What an attachment is, from its bytes. Decides how clients show it and whether
/// it is served inline (image, video, audio) or only as a download (document).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Image,
    Video,
    Audio,
    Document,
}

/// The image formats shown inline and thumbnailed; every other image format
/// (TIFF, HEIC, icons...) is a document, which browsers only download.
const INLINE_IMAGES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

impl AttachmentKind {
    /// The kind of a file whose bytes were recognised as `mime_type`.
    pub fn of_mime(mime_type: &str) -> Self {
        if INLINE_IMAGES.contains(&mime_type) {
            Self::Image
        } else if mime_type.starts_with("video/") {
            Self::Video
        } else if mime_type.starts_with("audio/") {
            Self::Audio
        } else {
            Self::Document
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Document => "document",
        }
    }

    pub fn from_name(raw: &str) -> Option<Self> {
        match raw {
            "image" => Some(Self::Image),
            "video" => Some(Self::Video),
            "audio" => Some(Self::Audio),
            "document" => Some(Self::Document),
            _ => None,
        }
    }

    /// Whether browsers may show it in the page rather than only download it.
    pub fn is_inline(self) -> bool {
        self != Self::Document
    }
}

/// What clients see of an attachment: in the upload's answer and in the
/// `attachments` of every message that carries it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    pub id: AttachmentId,
    pub kind: AttachmentKind,
    /// The type found in its bytes, never the one the uploader claimed.
    pub mime_type: String,
    /// The uploader's file name, made safe (`sanitize_file_name`).
    pub name: String,
    /// In bytes.
    pub size: i64,
    /// Images only, in pixels.
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// Whether `GET /api/attachments/{id}/thumbnail` has a small preview.
    pub has_thumbnail: bool,
}

/// A small preview of an image, stored beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThumbnailFacts {
    pub mime_type: String,
    pub size: i64,
}

/// A stored upload: what clients see, and what the server keeps to itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub info: AttachmentInfo,
    pub uploader_id: UserId,
    pub thumbnail: Option<ThumbnailFacts>,
    pub created_at: DateTime<Utc>,
}

impl Attachment {
    pub fn id(&self) -> AttachmentId {
        self.info.id
    }
}

/// Which file of an attachment: the original, or its thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail,
}

/// Where a file lives in the blob store: `originals/<id>` or `thumbnails/<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    pub fn of(id: AttachmentId, variant: Variant) -> Self {
        match variant {
            Variant::Original => Self(format!("originals/{id}")),
            Variant::Thumbnail => Self(format!("thumbnails/{id}")),
        }
    }

    /// A key as given (adapter contract tests use their own).
    pub fn raw(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A byte range of a blob, `start` included, `end` excluded, already checked
/// against the blob's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Facts about an image found by decoding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    pub width: u32,
    pub height: u32,
    /// None when the image could be measured but not decoded within the limits.
    pub thumbnail: Option<Thumbnail>,
}

/// An encoded thumbnail, at most `THUMBNAIL_MAX_SIDE` on its longer side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_comes_from_the_type_and_only_common_images_are_images() {
        assert_eq!(AttachmentKind::of_mime("image/png"), AttachmentKind::Image);
        assert_eq!(AttachmentKind::of_mime("image/webp"), AttachmentKind::Image);
        assert_eq!(AttachmentKind::of_mime("image/tiff"), AttachmentKind::Document);
        assert_eq!(AttachmentKind::of_mime("video/mp4"), AttachmentKind::Video);
        assert_eq!(AttachmentKind::of_mime("audio/ogg"), AttachmentKind::Audio);
        assert_eq!(AttachmentKind::of_mime("application/pdf"), AttachmentKind::Document);
        assert_eq!(AttachmentKind::of_mime("text/plain"), AttachmentKind::Document);
        assert!(!AttachmentKind::Document.is_inline());
        assert!(AttachmentKind::Video.is_inline());
    }

    #[test]
    fn originals_and_thumbnails_have_separate_keys() {
        let id = AttachmentId::new();
        assert_eq!(BlobKey::of(id, Variant::Original).as_str(), format!("originals/{id}"));
        assert_ne!(BlobKey::of(id, Variant::Original), BlobKey::of(id, Variant::Thumbnail));
    }
}
