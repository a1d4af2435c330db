ALTER TABLE messages DROP COLUMN system_info;
ALTER TABLE chat_members DROP COLUMN left_at_event_seq;
ALTER TABLE chat_members DROP COLUMN left_at_seq;
ALTER TABLE chats DROP COLUMN group_version;
ALTER TABLE chats DROP COLUMN description;
