// Express + pg: the pool reads PGHOST, PGUSER, PGPASSWORD, PGDATABASE, PGPORT.
const express = require("express");
const { Pool } = require("pg");

const pool = new Pool();
const app = express();

app.get("/", async (req, res) => {
  await pool.query("CREATE TABLE IF NOT EXISTS visits (at timestamptz DEFAULT now())");
  await pool.query("INSERT INTO visits DEFAULT VALUES");
  const { rows } = await pool.query(
    "SELECT current_database() AS database, (SELECT count(*) FROM visits)::int AS visits"
  );
  res.json(rows[0]);
});

app.listen(process.env.PORT || 3000, () => console.log("listening"));
