// Its start runs this source; its build (babel, which it does not depend on) writes a
// dist/ nothing runs.
const http = require("http");

const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ ok: true, path: req.url }));
  })
  .listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
