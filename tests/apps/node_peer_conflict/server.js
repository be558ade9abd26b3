// ajv-keywords 3 asks for ajv 6 as a peer, the project lists ajv 8: npm's ERESOLVE.
const http = require("http");
const Ajv = require("ajv");

const validate = new Ajv().compile({ type: "object", required: ["name"] });

http
  .createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ valid: validate({ name: "x" }) }));
  })
  .listen(Number(process.env.PORT || 3000), "127.0.0.1");
