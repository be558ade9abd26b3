const express = require("express");

const app = express();
app.get("/", (req, res) => res.json({ app: "express", version: require("express/package.json").version }));
app.get("/users/:id", (req, res) => res.json({ id: req.params.id }));
app.listen(Number(process.env.PORT), process.env.HOST, () => console.log(`listening on ${process.env.PORT}`));
