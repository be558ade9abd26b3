-- creates the test tables and data
CREATE SCHEMA scott;
SET search_path TO scott;
CREATE TABLE employee(empno INTEGER NOT NULL, name VARCHAR(10));
INSERT INTO employee VALUES (7839, 'KING');
