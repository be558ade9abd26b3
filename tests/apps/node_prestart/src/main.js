const fs = require("fs");
const http = require("http");

const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ built: true, buildRuns: Number(fs.readFileSync("dist/runs", "utf8")) }));
});
server.listen(Number(process.env.PORT), process.env.HOST, () => console.log("listening"));
