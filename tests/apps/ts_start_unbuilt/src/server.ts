import { createServer } from "http";

const compiled: boolean = true;

createServer((_request, response) => {
  response.setHeader("Content-Type", "application/json");
  response.end(JSON.stringify({ compiled }));
}).listen(Number(process.env.PORT), "127.0.0.1");
