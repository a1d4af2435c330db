-- Search behind the log (docs/decisions/0020-search-indexed-behind-the-log.md): a
-- send no longer updates the FTS5 index in its transaction. Triggers note each new
-- text message, each message whose text changes (an edit, a deletion for everyone)
-- and each removed one in `search_pending`, by rowid; the server's indexer moves
-- them into `message_search` in batches. The index keeps no copy of the text
-- (`content = ''`) and drops a row by its rowid (`contentless_delete`).
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_insert;
DROP TABLE messages_fts;

CREATE VIRTUAL TABLE message_search USING fts5(
    content,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram'
);

CREATE TABLE search_pending (
    message_rowid INTEGER PRIMARY KEY
);

CREATE TRIGGER messages_search_new AFTER INSERT ON messages WHEN new.content_type = 'text' BEGIN
    INSERT OR IGNORE INTO search_pending (message_rowid) VALUES (new.rowid);
END;

CREATE TRIGGER messages_search_changed AFTER UPDATE OF content ON messages
WHEN old.content IS NOT new.content BEGIN
    INSERT OR IGNORE INTO search_pending (message_rowid) VALUES (new.rowid);
END;

CREATE TRIGGER messages_search_gone AFTER DELETE ON messages BEGIN
    INSERT OR IGNORE INTO search_pending (message_rowid) VALUES (old.rowid);
END;

INSERT INTO message_search (rowid, content)
SELECT rowid, content FROM messages WHERE content_type = 'text' AND deleted_at IS NULL;
