import { createServer } from "node:http";
// A directory import: tsx resolves it, Node's ESM loader does not once tsc has
// compiled it as it is written (ERR_UNSUPPORTED_DIR_IMPORT).
import { route } from "./routes";

const port = Number(process.env.PORT ?? 3000);
createServer((request, response) => {
  const { status, body } = route(request.method ?? "GET", request.url ?? "/");
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}).listen(port, "127.0.0.1", () => console.log(`notes listening on ${port}`));
