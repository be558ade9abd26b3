// Sequelize's express-example shape: the tables and first rows come from a script the
// README says to run once (`npm run setup-example-db`), not from the server's start.
const fs = require("fs");
const initSqlJs = require("sql.js");

initSqlJs().then((SQL) => {
  const db = new SQL.Database();
  db.run("CREATE TABLE users (name TEXT NOT NULL)");
  db.run("INSERT INTO users VALUES ('ada'), ('grace')");
  fs.writeFileSync("example.sqlite", Buffer.from(db.export()));
  console.log("example database written");
});
