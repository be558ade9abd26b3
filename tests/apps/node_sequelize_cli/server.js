const http = require("http");
const { QueryTypes, Sequelize } = require("sequelize");
const config = require("./db/config.json")[process.env.NODE_ENV || "development"];

const sequelize = new Sequelize(config.database, config.username, config.password, {
  ...config,
  logging: false,
});

http
  .createServer(async (request, response) => {
    try {
      const rows = await sequelize.query('SELECT count(*)::int AS notes FROM "Notes"', {
        type: QueryTypes.SELECT,
      });
      response.setHeader("Content-Type", "application/json");
      response.end(JSON.stringify(rows[0]));
    } catch (error) {
      response.statusCode = 500;
      response.end(String(error));
    }
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
