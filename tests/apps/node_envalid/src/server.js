const http = require("http");
const env = require("./env");

const signing = process.env.JWT_SECRET || "dev"; // its own fallback: optional

http
  .createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ secret: env.ACCESS_TOKEN_SECRET.length >= 32, bucket: env.S3_BUCKET, jwt: signing !== "dev" }));
  })
  .listen(env.PORT, process.env.HOST || "127.0.0.1");
