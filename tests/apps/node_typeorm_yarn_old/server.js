require("reflect-metadata");
const fs = require("fs");
const http = require("http");
const path = require("path");
const { createConnection, EntitySchema } = require("typeorm");

const Note = new EntitySchema({
  name: "note",
  columns: { id: { type: Number, primary: true, generated: true }, text: { type: String } },
});

async function main() {
  const options = { type: "postgres", url: process.env.DATABASE_URL, entities: [Note] };
  const connection = await createConnection({ ...options, synchronize: true });
  await connection.synchronize(); // its table there now: the constraints are read
  http
    .createServer(async (request, response) => {
      const notes = await connection.getRepository("note").count();
      // its package.json is not among what newer TypeORMs export: read as a file
      const manifest = path.join(process.cwd(), "node_modules", "typeorm", "package.json");
      const { version } = JSON.parse(fs.readFileSync(manifest, "utf8"));
      response.setHeader("Content-Type", "application/json");
      response.end(JSON.stringify({ notes, version }));
    })
    .listen(Number(process.env.PORT), "127.0.0.1");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
