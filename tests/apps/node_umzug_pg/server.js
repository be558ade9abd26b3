const { createServer } = require("http");
const { Pool } = require("pg");

const pool = new Pool();

createServer(async (_request, response) => {
  response.setHeader("Content-Type", "application/json");
  try {
    const { rows } = await pool.query("SELECT name FROM items");
    response.end(JSON.stringify(rows.map((row) => row.name)));
  } catch (error) {
    response.statusCode = 500;
    response.end(JSON.stringify({ error: String(error) }));
  }
}).listen(Number(process.env.PORT), "127.0.0.1");
