// The app's own umzug runner, as umzug's README writes one: `node migrate.js up`.
const { Umzug, JSONStorage } = require("umzug");
const { Pool } = require("pg");

const pool = new Pool(); // the PG* variables
const umzug = new Umzug({
  migrations: { glob: "migrations/*.js" },
  context: pool,
  storage: new JSONStorage({ path: "umzug.json" }),
  logger: console,
});

const direction = process.argv[2] === "down" ? umzug.down() : umzug.up();
direction.then(
  () => pool.end(),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
