-- Receipts as one position per member and chat: every message up to
-- delivered_seq has reached the member, every one up to read_seq was read.
CREATE TABLE read_positions (
    chat_id        TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    delivered_seq  BIGINT NOT NULL DEFAULT 0,
    read_seq       BIGINT NOT NULL DEFAULT 0,
    delivered_at   BIGINT,
    read_at        BIGINT,
    PRIMARY KEY (chat_id, user_id)
);

-- Each forward move of a position, so "when did X read message N" is the time
-- of the first mark at or past N: one row per move, not per message.
CREATE TABLE receipt_marks (
    chat_id  TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    seq      BIGINT NOT NULL,
    at       BIGINT NOT NULL,
    -- A position only moves forward, so each (member, kind, seq) is marked once.
    PRIMARY KEY (chat_id, user_id, kind, seq)
);
CREATE INDEX receipt_marks_lookup ON receipt_marks (chat_id, kind, seq);

-- Logged events other than messages carry their payload (JSON).
ALTER TABLE chat_events ADD COLUMN payload TEXT;
