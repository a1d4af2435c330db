DROP TABLE push_outbox;
DROP TABLE push_subscriptions;
ALTER TABLE users DROP COLUMN notification_previews;
