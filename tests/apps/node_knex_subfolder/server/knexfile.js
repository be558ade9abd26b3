// Knex on PostgreSQL (the PG* variables); its migrations beside it, in server/migrations,
// the root's package.json starting server/server.js.
module.exports = {
  client: "pg",
  connection: {},
  migrations: { tableName: "knex_migrations" },
};
