const { DataTypes, Sequelize } = require("sequelize");
const config = require("../config/config.json")[process.env.NODE_ENV || "development"];

const sequelize = new Sequelize(config.database, config.username, config.password, {
  ...config,
  logging: false,
});
const Note = sequelize.define("Note", {
  text: { type: DataTypes.STRING, allowNull: false },
  done: { type: DataTypes.BOOLEAN, allowNull: true },
});

module.exports = { sequelize, Note };
