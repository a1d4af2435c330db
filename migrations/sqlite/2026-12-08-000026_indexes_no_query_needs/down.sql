DROP INDEX blocks_by_blocked;
CREATE INDEX users_name_lower ON users (lower(name));
CREATE INDEX hidden_messages_chat ON hidden_messages (user_id, chat_id);
CREATE TABLE receipt_marks_by_member (
    chat_id  TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    seq      BIGINT NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (chat_id, user_id, kind, seq)
);
INSERT INTO receipt_marks_by_member (chat_id, user_id, kind, seq, at)
    SELECT chat_id, user_id, kind, seq, at FROM receipt_marks;
DROP TABLE receipt_marks;
ALTER TABLE receipt_marks_by_member RENAME TO receipt_marks;
CREATE INDEX receipt_marks_lookup ON receipt_marks (chat_id, kind, seq);
