-- Search behind the log (docs/decisions/0020-search-indexed-behind-the-log.md): a
-- send no longer updates the search indexes in its transaction. A trigger notes each
-- new text message, and each message whose text changes (an edit, a deletion for
-- everyone), in `search_pending`; the server's indexer moves them into
-- `message_search`, which carries the full-text and trigram indexes, in batches.
CREATE TABLE message_search (
    message_id  TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    content     TEXT NOT NULL,
    content_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED
);

CREATE TABLE search_pending (
    message_id TEXT PRIMARY KEY
);

-- Once per statement: a group commit stores its whole batch with one INSERT.
CREATE FUNCTION search_pending_note_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_pending (message_id)
    SELECT id FROM new_messages WHERE content_type = 'text'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_search_new AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_messages
    FOR EACH STATEMENT EXECUTE FUNCTION search_pending_note_new();

-- Per row (a trigger with a column list cannot see the statement's rows): edits
-- and deletions change one message at a time. A note already there is updated, not
-- skipped, to lock it: the indexer, which skips locked notes, then cannot take it
-- and read the text from before this change commits.
CREATE FUNCTION search_pending_note_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_pending (message_id) VALUES (NEW.id)
    ON CONFLICT (message_id) DO UPDATE SET message_id = EXCLUDED.message_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_search_changed AFTER UPDATE OF content ON messages
    FOR EACH ROW WHEN (OLD.content IS DISTINCT FROM NEW.content)
    EXECUTE FUNCTION search_pending_note_changed();

-- The messages stored so far are indexed here, the indexes built once afterwards.
INSERT INTO message_search (message_id, content)
SELECT id, content FROM messages WHERE content_type = 'text' AND deleted_at IS NULL;
CREATE INDEX message_search_tsv ON message_search USING gin (content_tsv);
CREATE INDEX message_search_trgm ON message_search USING gin (content gin_trgm_ops);

DROP INDEX messages_content_trgm;
ALTER TABLE messages DROP COLUMN content_tsv;
