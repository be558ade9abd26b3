const http = require("http");
const pg = require("pg");

if (process.env.DATABASE_URL) {
  pg.defaults.ssl = { rejectUnauthorized: false };
}
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });

http
  .createServer(async (request, response) => {
    try {
      const client = await pool.connect();
      try {
        const { rows } = await client.query("SELECT 1 AS one");
        const tls = client.connection.stream.encrypted === true;
        response.setHeader("Content-Type", "application/json");
        response.end(JSON.stringify({ one: rows[0].one, tls }));
      } finally {
        client.release();
      }
    } catch (error) {
      response.statusCode = 500;
      response.end(String(error));
    }
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
