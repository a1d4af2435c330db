DROP TABLE audit_log;
DROP TABLE reports;
ALTER TABLE users DROP COLUMN disabled_at;
