DROP TABLE chat_events;
ALTER TABLE chats DROP COLUMN last_event_seq;
