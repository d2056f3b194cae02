-- lupa's SQL test suite for the sqlite3 shell: every section prints results that are compared
-- with expected-output.txt. Deterministic: no now(), no random values in the output. The
-- database is the shell's private temporary on-disk one (the "" file name), with a tiny page
-- cache so that tables, indexes and sorts really go through the file system; each run gets its
-- own, so parallel runs do not collide.
.bail on
.headers off
.mode list
.separator |
PRAGMA cache_size = 20;
PRAGMA temp_store = FILE;

SELECT '== 1 schema and bulk insert';
CREATE TABLE item(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, grp INTEGER NOT NULL,
                  price REAL, tags TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO item
  SELECT i, 'item-' || printf('%05d', i), i % 17, round((i * 7919 % 1000) / 10.0, 1),
         json_array('t' || (i % 5), 't' || (i % 3))
  FROM n;
SELECT count(*), sum(grp), total(price) FROM item;
CREATE INDEX item_grp_price ON item(grp, price);

SELECT '== 2 aggregates through the index';
SELECT grp, count(*), round(avg(price), 3), min(name), max(name)
  FROM item GROUP BY grp ORDER BY grp LIMIT 5;
SELECT count(*) FROM item WHERE grp = 7 AND price BETWEEN 10 AND 20;

SELECT '== 3 joins';
CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 16)
INSERT INTO grp SELECT i, 'group ' || i FROM n;
SELECT g.label, count(i.id), round(total(i.price), 1)
  FROM grp g LEFT JOIN item i ON i.grp = g.id AND i.price > 90
  GROUP BY g.id ORDER BY g.id LIMIT 4;
SELECT count(*) FROM item a JOIN item b ON b.id = a.id + 1 WHERE a.price < b.price;

SELECT '== 4 window functions';
SELECT id, price,
       rank() OVER (PARTITION BY grp ORDER BY price DESC, id),
       round(sum(price) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), 1)
  FROM item WHERE grp = 3 ORDER BY id LIMIT 5;

SELECT '== 5 JSON';
SELECT json_extract(tags, '$[0]'), count(*) FROM item GROUP BY 1 ORDER BY 1;
SELECT json_object('n', 1, 'a', json_array(1, 2, 3), 's', 'lupa');
SELECT key, value FROM json_each('{"x": 1, "y": [2, 3]}') ORDER BY key;

SELECT '== 6 full-text search (FTS5)';
CREATE VIRTUAL TABLE doc USING fts5(body);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO doc
  SELECT 'the ' || CASE i % 3 WHEN 0 THEN 'quick' WHEN 1 THEN 'lazy' ELSE 'brown' END
         || ' fox number ' || i FROM n;
SELECT count(*) FROM doc WHERE doc MATCH 'quick';
SELECT count(*) FROM doc WHERE doc MATCH 'lazy AND 1000';
SELECT highlight(doc, 0, '[', ']') FROM doc WHERE doc MATCH 'brown AND 2999';

SELECT '== 7 R*Tree';
CREATE VIRTUAL TABLE box USING rtree(id, x0, x1, y0, y1);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO box SELECT i, i % 100, i % 100 + 5, i / 20, i / 20 + 3 FROM n;
SELECT count(*) FROM box WHERE x0 >= 10 AND x1 <= 50 AND y0 < 40;

SELECT '== 8 transactions and savepoints';
BEGIN;
DELETE FROM item WHERE grp = 0;
SELECT count(*) FROM item;
ROLLBACK;
SELECT count(*) FROM item;
SAVEPOINT outer_sp;
UPDATE item SET price = 0 WHERE id <= 100;
SAVEPOINT inner_sp;
DELETE FROM item WHERE id <= 50;
ROLLBACK TO inner_sp;
RELEASE outer_sp;
SELECT count(*), total(price) FROM item WHERE id <= 200;

SELECT '== 9 triggers, upserts, constraints';
CREATE TABLE audit(n INTEGER PRIMARY KEY, what TEXT);
CREATE TRIGGER item_audit AFTER UPDATE OF price ON item
  BEGIN INSERT INTO audit(what) VALUES (old.name || ': ' || old.price || ' -> ' || new.price); END;
UPDATE item SET price = price + 1 WHERE id IN (1, 2, 3);
SELECT what FROM audit ORDER BY n;
INSERT INTO grp(id, label) VALUES (3, 'three') ON CONFLICT(id) DO UPDATE SET label = excluded.label;
INSERT OR IGNORE INTO item(id, name, grp) VALUES (20001, 'item-00001', 1);
SELECT label FROM grp WHERE id = 3;
SELECT count(*) FROM item;

SELECT '== 10 dates, math, strings, blobs';
SELECT date('2024-02-28', '+1 day'), strftime('%Y-%j', '2024-12-31'), julianday('2000-01-01');
SELECT printf('%.6f', sqrt(2)), printf('%.6f', pi()), 7 / 2, 7 % 3, abs(-3), round(2.5);
SELECT upper('lupa'), substr('syscalls', 4), replace('a-b-c', '-', '+'), instr('explore', 'p');
SELECT hex(zeroblob(4)), length(randomblob(32)), quote(x'00ff'), typeof(1.0), typeof(NULL);

SELECT '== 11 a big sort (it spills to a temporary file)';
SELECT s FROM (SELECT name || '/' || grp || '/' || price AS s FROM item) ORDER BY s DESC LIMIT 3;
SELECT grp, count(DISTINCT price) FROM item GROUP BY grp ORDER BY 2 DESC, 1 LIMIT 3;

SELECT '== 12 delete, vacuum, integrity';
DELETE FROM item WHERE id % 2 = 0;
VACUUM;
PRAGMA integrity_check;
SELECT count(*), min(id), max(id) FROM item;
SELECT '== done';
