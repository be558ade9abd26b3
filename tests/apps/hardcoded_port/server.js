// Ignores $PORT, as many generated apps do.
const http = require("http");

const server = http.createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ path: req.url, port: server.address().port }));
});
server.listen(3000, () => console.log("Server listening on http://localhost:3000"));
