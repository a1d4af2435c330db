-- SQLite twin of the PostgreSQL migration.
-- Uploaded files (photos, videos, voice notes, documents) and the messages that
-- carry them. The bytes live in the blob store (DATA_DIR/attachments or
-- STORAGE_URL) under originals/<id> and thumbnails/<id>; these rows are the facts.

CREATE TABLE attachments (
    id                  TEXT PRIMARY KEY,
    uploader_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- image | video | audio | document, from the bytes
    kind                TEXT NOT NULL,
    -- the type found in the bytes, never the uploader's claim
    mime_type           TEXT NOT NULL,
    -- the uploader's file name, made safe
    name                TEXT NOT NULL,
    size                BIGINT NOT NULL,
    width               INTEGER,
    height              INTEGER,
    thumbnail_mime_type TEXT,
    thumbnail_size      BIGINT,
    created_at          BIGINT NOT NULL
);
-- The orphan sweep looks for old uploads.
CREATE INDEX attachments_created ON attachments (created_at);

-- Which message carries which file, in order. A file may be carried by several
-- messages (forwarded copies, the uploader sending it again); it is removed when
-- the last of them is deleted for everyone. No cascade from attachments: a file
-- that is still carried cannot be removed.
CREATE TABLE message_attachments (
    message_id     TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    attachment_id  TEXT NOT NULL REFERENCES attachments (id),
    position       INTEGER NOT NULL,
    PRIMARY KEY (message_id, attachment_id)
);
CREATE INDEX message_attachments_attachment ON message_attachments (attachment_id);
