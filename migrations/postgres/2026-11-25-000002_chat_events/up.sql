-- The per-chat log of durable events that devices replay after a reconnect.
-- Each chat numbers its events 1, 2, 3... (event_seq) in the transaction that
-- makes the change, so a device's position in a chat is a single number.
ALTER TABLE chats ADD COLUMN last_event_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE chat_events (
    chat_id     TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    event_seq   BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    message_id  TEXT REFERENCES messages (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (chat_id, event_seq)
);

-- Messages stored before the log existed become its first events.
INSERT INTO chat_events (chat_id, event_seq, kind, actor_id, message_id, created_at)
    SELECT chat_id, seq, 'message', sender_id, id, created_at FROM messages;
UPDATE chats SET last_event_seq = last_seq;
