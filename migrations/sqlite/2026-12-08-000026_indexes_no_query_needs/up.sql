-- Indexes no query needs, each one more write for every row (docs/benchmarks.md,
-- "Second round: the write path", lists every index and what uses it).

-- A receipt's marks are read by chat and seq ("from this message on"): one key
-- in that order serves the read and keeps each (member, kind, seq) marked once,
-- where a key led by the member and a second index for the read took two writes
-- per mark. SQLite changes a primary key by copying the table.
CREATE TABLE receipt_marks_by_seq (
    chat_id  TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    seq      BIGINT NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (chat_id, seq, kind, user_id)
);
INSERT INTO receipt_marks_by_seq (chat_id, user_id, kind, seq, at)
    SELECT chat_id, user_id, kind, seq, at FROM receipt_marks;
DROP TABLE receipt_marks;
ALTER TABLE receipt_marks_by_seq RENAME TO receipt_marks;

-- Hidden messages are looked up by (user, message), the primary key; nothing
-- asks for them by chat.
DROP INDEX hidden_messages_chat;

-- Names are searched for anywhere in the name (LIKE '%...%'), which an index on
-- lower(name) cannot answer; both name searches scan the users.
DROP INDEX users_name_lower;

-- The one index a query lacked: every group commit with a message in a direct
-- chat asks who blocks its senders (blocked_id = ANY(...)), which the key led by
-- the blocker cannot answer, so it read the whole table while the chats' rows
-- were locked. Blocks are written rarely.
CREATE INDEX blocks_by_blocked ON blocks (blocked_id, blocker_id);
