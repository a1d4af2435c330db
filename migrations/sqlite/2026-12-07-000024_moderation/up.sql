-- Moderation: disabled accounts, people's reports (with a copy of the reported
-- message, so that deleting it keeps the evidence) and the audit log of every
-- administrative action.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

CREATE TABLE reports (
    id            TEXT PRIMARY KEY,
    reporter_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id    TEXT,
    message_copy  TEXT,
    reason        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    status        TEXT NOT NULL,
    resolved_at   BIGINT,
    resolved_by   TEXT
);
CREATE INDEX reports_by_status ON reports (status, created_at);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    details  TEXT NOT NULL
);
