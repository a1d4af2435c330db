DROP TABLE hidden_messages;
DROP TABLE message_reactions;
DROP TABLE message_edits;
ALTER TABLE messages DROP COLUMN deleted_at;
ALTER TABLE messages DROP COLUMN edited_at;
ALTER TABLE messages DROP COLUMN forwarded;
ALTER TABLE messages DROP COLUMN reply_to_id;
