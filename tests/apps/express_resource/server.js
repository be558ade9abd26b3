// An API whose router is made by a factory module and mounted by calling it; its one
// resource is resource-router-middleware's (handlers named index, create, read, update…).
const express = require("express");
const api = require("./api");

const app = express();
app.use(express.json());
app.use("/api", api({ greeting: "hello" }));
app.listen(process.env.PORT || 3000, "127.0.0.1");
