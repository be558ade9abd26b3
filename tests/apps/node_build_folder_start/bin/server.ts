const http = require("http");
const path = require("path");

const port: number = Number(process.env.PORT);
http
  .createServer((request, response) => {
    response.setHeader("Content-Type", "application/json");
    response.end(JSON.stringify({ built: path.basename(path.dirname(__dirname)) }));
  })
  .listen(port, "127.0.0.1");
