-- After the schema (the image runs them in name order); '%' is no placeholder here.
INSERT INTO fruit VALUES ('apple', 1), ('100% juice', 2);
