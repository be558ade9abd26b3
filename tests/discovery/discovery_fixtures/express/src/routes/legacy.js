const router = require("express").Router();

router.get("/old/*", (req, res) => res.redirect("/"));

module.exports = router;
