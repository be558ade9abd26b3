INSERT INTO fruit VALUES ('pear', 3);
