ALTER TABLE chat_events DROP COLUMN payload;
DROP TABLE receipt_marks;
DROP TABLE read_positions;
