require("dotenv").config();
const http = require("http");
const { Pool } = require("pg");

const pool = new Pool({ connectionTimeoutMillis: 5000 }); // the PG* variables

http
  .createServer(async (request, response) => {
    try {
      const { rows } = await pool.query("SELECT current_database() AS name");
      response.setHeader("Content-Type", "application/json");
      response.end(JSON.stringify({ database: rows[0].name }));
    } catch (error) {
      response.statusCode = 500;
      response.end(String(error));
    }
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
