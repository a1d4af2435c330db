DROP INDEX messages_content_trgm;
DROP INDEX messages_content_fts;
