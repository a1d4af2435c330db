-- Web Push: whether a person's pushes show message text, the browsers'
-- subscriptions (one per endpoint, tied to the device session that made it), and
-- the outbox of pushes waiting to be sent.
ALTER TABLE users ADD COLUMN notification_previews BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE push_subscriptions (
    endpoint    TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    p256dh      TEXT NOT NULL,
    auth        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
CREATE INDEX push_subscriptions_session ON push_subscriptions (session_id);

CREATE TABLE push_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint         TEXT NOT NULL REFERENCES push_subscriptions (endpoint) ON DELETE CASCADE,
    payload          TEXT NOT NULL,
    urgency          TEXT NOT NULL,
    topic            TEXT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX push_outbox_due ON push_outbox (next_attempt_at, id);
CREATE INDEX push_outbox_endpoint ON push_outbox (endpoint);
