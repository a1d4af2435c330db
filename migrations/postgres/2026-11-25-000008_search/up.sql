-- Message search: full-text for whole words, trigrams for partial words and for
-- scripts without spaces (Chinese, Japanese, Korean).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX messages_content_fts ON messages USING gin (to_tsvector('simple', content));
CREATE INDEX messages_content_trgm ON messages USING gin (content gin_trgm_ops);
