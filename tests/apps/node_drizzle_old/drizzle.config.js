// drizzle-kit 0.20's config: no `migrate` command reads it (that came with 0.21).
module.exports = {
  schema: "./schema.js",
  out: "./migrations",
  driver: "pg",
  dbCredentials: { connectionString: process.env.POSTGRES_URL },
};
