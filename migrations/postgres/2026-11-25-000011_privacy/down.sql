DROP INDEX contacts_by_contact;
ALTER TABLE users DROP COLUMN last_seen_visibility;
