// Runs after setup.js: it needs the table that one made.
const fs = require("fs");
const initSqlJs = require("sql.js");

initSqlJs().then((SQL) => {
  const db = new SQL.Database(fs.readFileSync("example.sqlite"));
  db.run("INSERT INTO users VALUES ('linus')");
  fs.writeFileSync("example.sqlite", Buffer.from(db.export()));
});
