// An old npm's lockfile (lockfileVersion 1), made against a private mirror.
const http = require("http");
const isNumber = require("is-number");

const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({
    isNumber: require("is-number/package.json").version,
    five: isNumber(5),
    nodeOptions: process.env.NODE_OPTIONS || null,
  }));
});
server.listen(Number(process.env.PORT), process.env.HOST, () => console.log("listening"));
