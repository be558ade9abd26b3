const express = require("express");

const router = express.Router();

router.get("/", (req, res) => res.json([]));
router.post("/", (req, res) => res.status(201).json(req.body));
router.get("/:id(\\d+)", (req, res) => res.json({ id: req.params.id }));
router.patch("/:id", (req, res) => res.json({}));
// router.delete("/:id", remove);  <- commented out, so not an endpoint

module.exports = router;
