// Started in production: it does not migrate itself (its migrations ran before it).
const http = require("http");
const { Pool } = require("pg");
const { drizzle } = require("drizzle-orm/node-postgres");
const { notes } = require("./schema");

const db = drizzle(new Pool({ connectionString: process.env.POSTGRES_URL }));

http
  .createServer(async (req, res) => {
    const rows = await db.select().from(notes);
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify(rows.map((row) => row.body)));
  })
  .listen(Number(process.env.PORT), process.env.HOST, () => console.log("listening"));
