const http = require("http");
const { Pool } = require("pg");

const pool = new Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5000 });

http
  .createServer(async (request, response) => {
    try {
      const { rows } = await pool.query("SELECT 1 AS one");
      const version = require("pg/package.json").version;
      response.setHeader("Content-Type", "application/json");
      response.end(JSON.stringify({ one: rows[0].one, version }));
    } catch (error) {
      response.statusCode = 500;
      response.end(String(error));
    }
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
