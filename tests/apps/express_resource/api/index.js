const { Router } = require("express");
const notes = require("./notes");

module.exports = (options) => {
  const api = Router();
  api.use("/notes", notes(options));
  api.get("/", (req, res) => res.json({ greeting: options.greeting }));
  return api;
};
