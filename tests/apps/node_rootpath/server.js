require("rootpath")();
const http = require("http");
const answer = require("_helpers/answer"); // found from the app's root, as rootpath means

http
  .createServer((request, response) => {
    response.setHeader("Content-Type", "application/json");
    response.end(JSON.stringify(answer));
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
