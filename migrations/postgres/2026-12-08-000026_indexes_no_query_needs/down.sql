DROP INDEX blocks_by_blocked;
CREATE INDEX users_name_lower ON users (lower(name));
CREATE INDEX hidden_messages_chat ON hidden_messages (user_id, chat_id);
CREATE INDEX receipt_marks_lookup ON receipt_marks (chat_id, kind, seq);
ALTER TABLE receipt_marks DROP CONSTRAINT receipt_marks_pkey,
    ADD PRIMARY KEY (chat_id, user_id, kind, seq);
