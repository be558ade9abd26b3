// Its table comes from the migrations the knexfile names by path.join.
const http = require("http");
const knex = require("knex")(require("../../knexfile"));

http
  .createServer(async (req, res) => {
    const rows = await knex("items").select("name").orderBy("id");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(rows.map((row) => row.name)));
  })
  .listen(Number(process.env.PORT || 3000), "127.0.0.1");
