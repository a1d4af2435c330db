-- Indexes no query needs, each one more write for every row (docs/benchmarks.md,
-- "Second round: the write path", lists every index and what uses it).

-- A receipt's marks are read by chat and seq ("from this message on"): one key
-- in that order serves the read and keeps each (member, kind, seq) marked once,
-- where a key led by the member and a second index for the read took two writes
-- per mark.
ALTER TABLE receipt_marks DROP CONSTRAINT receipt_marks_pkey,
    ADD PRIMARY KEY (chat_id, seq, kind, user_id);
DROP INDEX receipt_marks_lookup;

-- Hidden messages are looked up by (user, message), the primary key; nothing
-- asks for them by chat.
DROP INDEX hidden_messages_chat;

-- Names are searched for anywhere in the name (LIKE '%...%'), which a B-tree on
-- lower(name) cannot answer; both name searches scan the users.
DROP INDEX users_name_lower;

-- The one index a query lacked: every group commit with a message in a direct
-- chat asks who blocks its senders (blocked_id = ANY(...)), which the key led by
-- the blocker cannot answer, so it read the whole table while the chats' rows
-- were locked. Blocks are written rarely.
CREATE INDEX blocks_by_blocked ON blocks (blocked_id, blocker_id);
