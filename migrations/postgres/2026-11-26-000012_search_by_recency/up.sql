-- Search answers newest first (docs/decisions/0006-search-newest-first.md):
-- an index to walk messages from the newest, and each message's words kept in a
-- column, so that checking a message on that walk does not compute them again.
ALTER TABLE messages ADD COLUMN content_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED;
CREATE INDEX messages_content_tsv ON messages USING gin (content_tsv);
DROP INDEX messages_content_fts;
CREATE INDEX messages_created_at ON messages (created_at);
