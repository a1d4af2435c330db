//! Which attachments a message may carry, and the limits on uploads.

use super::Attachment;
use crate::error::DomainError;
use crate::ids::{AttachmentId, UserId};
use crate::message::ContentType;
use crate::ErrorCode;
use chrono::Duration;

/// Most attachments one message may carry (an album).
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 10;

/// Limits on uploads, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentPolicy {
    /// Largest upload accepted, in bytes (`MAX_UPLOAD_SIZE`).
    pub max_upload_size: u64,
    /// Uploads no message refers to are removed once this old.
    pub orphan_ttl: Duration,
    /// Images up to this many bytes are decoded for a thumbnail; larger ones are
    /// only measured from their header (decoding needs them in memory).
    pub max_decode_bytes: usize,
    /// How long a signed download link works (`ATTACHMENT_LINK_TTL`).
    pub link_ttl: Duration,
}

impl Default for AttachmentPolicy {
    fn default() -> Self {
        Self {
            max_upload_size: 64 * 1024 * 1024,
            orphan_ttl: Duration::hours(24),
            max_decode_bytes: 32 * 1024 * 1024,
            link_ttl: super::DEFAULT_LINK_TTL,
        }
    }
}

pub(crate) fn attachment_not_found() -> DomainError {
    DomainError::not_found(ErrorCode::AttachmentNotFound, "attachment not found")
}

/// The attachments a message of `content_type` from `sender` will carry, in the
/// order asked for, once each. `requested` are the ids the client sent; `found`
/// those of them the repository has. A text message carries none; a photo,
/// video, voice or document message 1 to `MAX_ATTACHMENTS_PER_MESSAGE` files of
/// that kind, each uploaded by the sender (anyone else's upload is "not found",
/// so that ids cannot be probed).
pub fn check_for_send(
    sender: UserId,
    content_type: ContentType,
    requested: &[AttachmentId],
    found: &[Attachment],
) -> Result<Vec<AttachmentId>, DomainError> {
    let mut ids: Vec<AttachmentId> = Vec::with_capacity(requested.len());
    for id in requested {
        if !ids.contains(id) {
            ids.push(*id);
        }
    }
    let Some(kind) = content_type.attachment_kind() else {
        if ids.is_empty() {
            return Ok(ids);
        }
        return Err(DomainError::invalid(
            ErrorCode::AttachmentsNotAllowed,
            format!("a {} message carries no attachments", content_type.as_str()),
        ));
    };
    if ids.is_empty() {
        return Err(DomainError::invalid(
            ErrorCode::AttachmentsRequired,
            format!("a {} message needs attachment_ids", content_type.as_str()),
        ));
    }
    if ids.len() > MAX_ATTACHMENTS_PER_MESSAGE {
        return Err(DomainError::invalid(
            ErrorCode::TooManyAttachments,
            format!("a message carries at most {MAX_ATTACHMENTS_PER_MESSAGE} attachments"),
        ));
    }
    for id in &ids {
        let attachment =
            found.iter().find(|a| a.id() == *id && a.uploader_id == sender).ok_or_else(attachment_not_found)?;
        if attachment.info.kind != kind {
            return Err(DomainError::invalid(
                ErrorCode::AttachmentKindMismatch,
                format!(
                    "attachment {id} is a {} file, not {}; send it with content_type {:?}",
                    attachment.info.kind.as_str(),
                    kind.as_str(),
                    attachment.info.kind.as_str()
                ),
            ));
        }
    }
    Ok(ids)
}
