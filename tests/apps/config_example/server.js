// Requires src/config.js, which the upload has only as src/config.js.example.
const http = require("http");
const config = require("./src/config");

http
  .createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    // app-root-path (TypeORM finds its ormconfig.json with it) names the app, not node_modules.
    res.end(JSON.stringify({ secret: config.SECRET, root: process.env.APP_ROOT_PATH === process.cwd() }));
  })
  .listen(Number(process.env.PORT), process.env.HOST, () => console.log("listening"));
