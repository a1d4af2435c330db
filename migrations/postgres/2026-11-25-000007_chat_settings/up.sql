-- Each person's own settings for a chat: archived, muted until a time, pinned.
CREATE TABLE chat_settings (
    chat_id      TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    archived     BOOLEAN NOT NULL DEFAULT FALSE,
    muted_until  BIGINT,
    pinned       BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (chat_id, user_id)
);
