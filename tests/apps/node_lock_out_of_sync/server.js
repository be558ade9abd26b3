// Its package-lock.json was never updated after ms was added to package.json: npm ci
// refuses it (EUSAGE), npm install does not.
const http = require("http");
const { version } = require("ms/package.json");

http
  .createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ ms: version }));
  })
  .listen(Number(process.env.PORT || 3000), "127.0.0.1");
