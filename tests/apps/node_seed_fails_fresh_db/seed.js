// Demo rows for a developer's database: it expects rows setup.js does not make (a
// table of posts), and fails on a fresh database, as real seeds often do.
const fs = require("fs");
const initSqlJs = require("sql.js");

initSqlJs().then((SQL) => {
  const db = new SQL.Database(fs.readFileSync("example.sqlite"));
  db.run("INSERT INTO posts (title) VALUES ('hello')");
  fs.writeFileSync("example.sqlite", Buffer.from(db.export()));
});
