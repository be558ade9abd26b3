// Its pnpm-lock.yaml locked @vue/reactivity 3.4.99 (no such version) beside @vue/shared
// 3.4.0: a scope's packages, released together, each wanting the other's same version.
const http = require("http");
const reactivity = require("@vue/reactivity/package.json").version;
const shared = require("@vue/shared/package.json").version;

http
  .createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ reactivity, shared }));
  })
  .listen(Number(process.env.PORT || 3000), "127.0.0.1");
