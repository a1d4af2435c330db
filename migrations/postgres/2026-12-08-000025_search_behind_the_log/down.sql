ALTER TABLE messages ADD COLUMN content_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED;
CREATE INDEX messages_content_tsv ON messages USING gin (content_tsv);
CREATE INDEX messages_content_trgm ON messages USING gin (content gin_trgm_ops);
DROP TRIGGER messages_search_changed ON messages;
DROP TRIGGER messages_search_new ON messages;
DROP FUNCTION search_pending_note_changed();
DROP FUNCTION search_pending_note_new();
DROP TABLE search_pending;
DROP TABLE message_search;
