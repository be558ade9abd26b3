// Its MySQL from HOST, PORT, USER, PASSWORD, DATABASE, as its compose file gives them;
// its own server on APP_PORT.
const express = require("express");
const mysql = require("mysql2/promise");

const pool = mysql.createPool({
  host: process.env.HOST,
  port: Number(process.env.PORT),
  user: process.env.USER,
  password: process.env.PASSWORD,
  database: process.env.DATABASE,
});

const app = express();
app.get("/", async (req, res) => {
  const [rows] = await pool.query("SELECT VERSION() AS version, DATABASE() AS db");
  res.json(rows[0]);
});
app.listen(Number(process.env.APP_PORT || 4000));
