-- Portable schema: ids are TEXT (UUID strings) and times BIGINT microseconds since
-- the Unix epoch, so one diesel schema serves PostgreSQL and SQLite alike
-- (docs/decisions/0001-portable-schema.md).

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    phone       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    last_seen   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX users_name_lower ON users (lower(name));

CREATE TABLE otp_challenges (
    phone       TEXT PRIMARY KEY,
    code_hash   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE chats (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT,
    direct_key  TEXT UNIQUE,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    -- The seq of the newest message; bumped in the transaction that stores one.
    last_seq    BIGINT NOT NULL DEFAULT 0,
    last_activity_at BIGINT NOT NULL
);

CREATE TABLE chat_members (
    chat_id     TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    joined_at   BIGINT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX chat_members_user ON chat_members (user_id);

CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    chat_id       TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    sender_id     TEXT NOT NULL REFERENCES users (id),
    seq           BIGINT NOT NULL,
    content       TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    client_msg_id TEXT,
    created_at    BIGINT NOT NULL,
    UNIQUE (chat_id, seq),
    UNIQUE (sender_id, client_msg_id)
);
