-- Device links: a new device asks to log in as the person of `phone` and shows a
-- pairing code; one of that person's logged-in devices confirms it, which opens the
-- new device's session (`session_id`); the new device claims that session once.
-- Codes and claim secrets are stored hashed.
CREATE TABLE device_links (
    id            TEXT PRIMARY KEY,
    phone         TEXT NOT NULL,
    code_hash     TEXT NOT NULL UNIQUE,
    claim_hash    TEXT NOT NULL,
    device        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    confirmed_by  TEXT REFERENCES users (id) ON DELETE CASCADE,
    session_id    TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    confirmed_at  BIGINT,
    claimed_at    BIGINT
);
CREATE INDEX device_links_expiry ON device_links (expires_at);
