// Routes as sequelize/express-example makes them: a loop over an object's entries,
// each path a template literal, each verb only where its module exports a handler.
const express = require("express");

const routes = { users: require("./routes/users"), books: require("./routes/books") };
const version = ["v", 2].join("");
const app = express();
app.use(express.json());

for (const [name, controller] of Object.entries(routes)) {
  if (controller.getAll) app.get(`/api/${name}`, controller.getAll);
  if (controller.getById) app.get(`/api/${name}/:id`, controller.getById);
  if (controller.create) app.post(`/api/${name}`, controller.create);
  if (controller.remove) app.delete(`/api/${name}/:id`, controller.remove);
}

const status = express.Router();
status.get("/ping", (req, res) => res.json({ pong: true }));
app.use(`/${version}`, status);

const admin = express();
admin.get("/stats", (req, res) => res.json({ users: 1 }));
app.use("/admin", admin);

app.listen(Number(process.env.PORT), process.env.HOST, () => console.log("listening"));
