// A pnpm project whose pnpm-lock.yaml locked a version of ms the registry lacks (2.1.99:
// unpublished, or a mirror's gap); package.json allows any 2.x from 2.1.
const http = require("http");
const { version } = require("ms/package.json");

http
  .createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ ms: version }));
  })
  .listen(Number(process.env.PORT || 3000), "127.0.0.1");
