// A yarn project: package.json allows any ms 2.x, its yarn.lock locked 2.0.0.
const http = require("http");
const { version } = require("ms/package.json");

http
  .createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ ms: version }));
  })
  .listen(Number(process.env.PORT || 3000), "127.0.0.1");
