// Requires src/config.js, which the upload has only as src/config.js.example.
const http = require("http");
const config = require("./src/config");

http
  .createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ secret: config.SECRET }));
  })
  .listen(Number(process.env.PORT), process.env.HOST, () => console.log("listening"));
