// Its configuration is read per request from config/<NODE_ENV>.json: the production
// one is its deployment's secret, not in the repository, so `npm start` answers 500
// everywhere while `npm run dev` serves.
const fs = require("fs");
const path = require("path");
const express = require("express");

const app = express();

function config() {
  const env = process.env.NODE_ENV || "development";
  return JSON.parse(fs.readFileSync(path.join(__dirname, "..", "config", `${env}.json`)));
}

app.get("/", (req, res) => res.json({ greeting: config().greeting }));
app.get("/status", (req, res) => res.json({ ok: true, greeting: config().greeting }));

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
