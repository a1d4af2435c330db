DROP INDEX messages_chat_sender;
