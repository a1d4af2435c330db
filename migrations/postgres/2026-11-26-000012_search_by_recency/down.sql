DROP INDEX messages_created_at;
CREATE INDEX messages_content_fts ON messages USING gin (to_tsvector('simple', content));
DROP INDEX messages_content_tsv;
ALTER TABLE messages DROP COLUMN content_tsv;
