import { createServer } from "http";

// database/migrate.ts is not imported: tsc takes it in by the tsconfig's include alone.
createServer((_request, response) => {
  response.setHeader("Content-Type", "application/json");
  response.end(JSON.stringify({ compiled: true }));
}).listen(Number(process.env.PORT), "127.0.0.1");
