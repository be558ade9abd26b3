import { Router } from "express";

const router = Router();
const nested = Router({ mergeParams: true });

nested.get("/", (req, res) => res.json([]));
nested.post("/", (req, res) => res.json({}));

router.get("/", async (req, res) => res.json([]));
router.delete("/:itemId", async (req, res) => res.sendStatus(204));
router.use("/:itemId/reviews", nested);

export default router;
