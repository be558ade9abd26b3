require("reflect-metadata");
const fs = require("fs");
const http = require("http");
const path = require("path");
const { createConnection, EntitySchema } = require("typeorm");

const Note = new EntitySchema({
  name: "note",
  columns: { id: { type: Number, primary: true, generated: true }, text: { type: String } },
});

// A package's package.json is not among what newer TypeORMs export: read as a file.
function version(name) {
  const manifest = path.join(process.cwd(), "node_modules", name, "package.json");
  return JSON.parse(fs.readFileSync(manifest, "utf8")).version;
}

async function main() {
  const options = { type: "postgres", url: process.env.DATABASE_URL, entities: [Note] };
  const connection = await createConnection({ ...options, synchronize: true });
  await connection.synchronize(); // its table there now: the constraints are read
  http
    .createServer(async (request, response) => {
      const notes = await connection.getRepository("note").count();
      response.setHeader("Content-Type", "application/json");
      response.end(JSON.stringify({ notes, typeorm: version("typeorm"), pg: version("pg") }));
    })
    .listen(Number(process.env.PORT), "127.0.0.1");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
