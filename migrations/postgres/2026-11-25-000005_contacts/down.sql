DROP TABLE blocks;
DROP TABLE contacts;
