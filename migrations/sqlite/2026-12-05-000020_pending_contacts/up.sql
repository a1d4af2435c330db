-- Numbers a user saved that nobody had registered then. Each becomes a row of
-- `contacts` when its person logs in.
CREATE TABLE pending_contacts (
    owner_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    phone       TEXT NOT NULL,
    alias       TEXT,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (owner_id, phone)
);

-- Claiming at login finds a number's entries.
CREATE INDEX pending_contacts_by_phone ON pending_contacts (phone);
