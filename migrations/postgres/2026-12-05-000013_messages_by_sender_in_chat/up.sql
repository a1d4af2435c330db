-- Presence goes to the people a user exchanged messages with: whether someone
-- has written in a chat is then one index probe, however long the chat.
CREATE INDEX messages_chat_sender ON messages (chat_id, sender_id);
