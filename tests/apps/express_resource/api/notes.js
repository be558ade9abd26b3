const resource = require("resource-router-middleware");

const NOTES = [{ id: "1", text: "first" }];

module.exports = () =>
  resource({
    id: "note",

    load(req, id, callback) {
      const note = NOTES.find((n) => n.id === id);
      callback(note ? null : "Not found", note);
    },

    index(req, res) {
      res.json(NOTES);
    },

    create({ body }, res) {
      const note = { id: String(NOTES.length + 1), text: body.text };
      NOTES.push(note);
      res.json(note);
    },

    read({ note }, res) {
      res.json(note);
    },

    delete({ note }, res) {
      NOTES.splice(NOTES.indexOf(note), 1);
      res.sendStatus(204);
    },
  });
