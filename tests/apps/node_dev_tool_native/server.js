const http = require("http");
const { greeting } = require("greeting");

http
  .createServer((req, res) => res.end(JSON.stringify({ greeting: greeting() })))
  .listen(process.env.PORT || 3000);
