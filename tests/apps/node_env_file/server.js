// Reads its configuration as Node's own --env-file loaded it (no dotenv).
const http = require("http");

const server = http.createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(
    JSON.stringify({
      greeting: process.env.GREETING,
      secretSet: Boolean(process.env.SESSION_SECRET),
    }),
  );
});
server.listen(Number(process.env.PORT || 3000));
