const fs = require("fs");
const http = require("http");
const initSqlJs = require("sql.js");

initSqlJs().then((SQL) => {
  http
    .createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      try {
        const db = new SQL.Database(fs.readFileSync("example.sqlite"));
        const rows = db.exec("SELECT name FROM users ORDER BY rowid")[0].values;
        res.end(JSON.stringify({ users: rows.map((row) => row[0]) }));
      } catch (error) {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: String(error.message || error) }));
      }
    })
    .listen(Number(process.env.PORT || 3000), "127.0.0.1");
});
