// Express app: routers in their own files, mounted with prefixes.
// app.get("/commented-out", handler) must not be found.
const express = require("express");
const usersRouter = require("./routes/users");
import items from "./routes/items.mjs";
import { adminRouter as admin } from "./routes/admin";

const app = express();
const pattern = /["'`]\/fake/g; // a regex literal with quotes in it
const url = "http://example.com/app.get('/not-a-route', h)";
const label = `app.post("/also-not-a-route", h)`;

/*
router.post("/block-comment", handler);
app.delete('/nope', h)
*/

app.use(express.json());
app.use("/api/users", usersRouter);
app.use("/api/items", items);
app.use("/admin", requireAuth, admin);
app.use("/legacy", require("./routes/legacy"));

app.get("/", (req, res) => res.send("home"));
app.get(`/health`, (req, res) => res.json({ ok: pattern.test(url) && label }));
app.all("/echo/:word?", (req, res) => res.send(req.params.word));

app
  .route("/books/:isbn")
  .get((req, res) => res.send("book"))
  .put((req, res) => res.send("updated"))
  .delete((req, res) => res.sendStatus(204));

function requireAuth(req, res, next) {
  next();
}

app.listen(process.env.PORT || 3000);
module.exports = app;
