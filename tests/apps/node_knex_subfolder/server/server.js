// Started by the root package.json; its table comes from server/knexfile.js migrations.
const http = require("http");
const knex = require("knex")(require("./knexfile"));

http
  .createServer(async (req, res) => {
    const rows = await knex("items").select("name").orderBy("id");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(rows.map((row) => row.name)));
  })
  .listen(Number(process.env.PORT || 3000), "127.0.0.1");
