// envalid exits at start naming each variable it requires that is unset.
const { cleanEnv, port, str } = require("envalid");

module.exports = cleanEnv(process.env, {
  ACCESS_TOKEN_SECRET: str(),
  PORT: port(),
  S3_BUCKET: str({ default: "uploads" }),
});
