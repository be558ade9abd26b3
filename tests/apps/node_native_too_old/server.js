// bcrypt 3.0.6 (2019) is native code older than Node 20's API: node-gyp cannot build it
// (and its prebuilt binary would come from GitHub): its newest release runs instead.
const http = require("http");
const bcrypt = require("bcrypt");

const hash = bcrypt.hashSync("preview", 4);
http
  .createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ matches: bcrypt.compareSync("preview", hash) }));
  })
  .listen(process.env.PORT || 3000);
