// Its migrations' folder built with path.join from a constant (mjhea0's node-koa-api):
// src/server/db/migrations, not the "migrations" beside it.
const path = require("path");

const BASE_PATH = path.join(__dirname, "src", "server", "db");

module.exports = {
  client: "pg",
  connection: {},
  migrations: {
    directory: path.join(BASE_PATH, "migrations"),
  },
};
