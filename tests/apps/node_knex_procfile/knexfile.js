// Knex on PostgreSQL (the PG* variables), its migrations in db/migrations.
module.exports = {
  client: "pg",
  connection: {},
  migrations: { directory: "db/migrations", tableName: "knex_migrations" },
};
