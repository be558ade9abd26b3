// An Express app on MongoDB, as boilerplates write it: it listens once mongoose connects.
const express = require("express");
const mongoose = require("mongoose");

const Note = mongoose.model("Note", new mongoose.Schema({ text: String }));
const app = express();
app.get("/notes", async (req, res) => res.json(await Note.find().lean()));

mongoose.connect(process.env.MONGODB_URL || "mongodb://127.0.0.1:27017/notes").then(() => {
  app.listen(process.env.PORT || 3000);
});
