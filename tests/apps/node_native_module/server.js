// bcrypt 5.1 is a native module: node-pre-gyp fetches its prebuilt binary from GitHub,
// else builds it from source with node-gyp (a compiler, make, Python, Node's headers).
const http = require("http");
const bcrypt = require("bcrypt");

const hash = bcrypt.hashSync("preview", 4);
http
  .createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ matches: bcrypt.compareSync("preview", hash) }));
  })
  .listen(process.env.PORT || 3000);
