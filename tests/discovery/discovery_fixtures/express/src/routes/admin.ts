import express, { Request, Response } from "express";

export const adminRouter: express.Router = express.Router();

adminRouter.get("/stats", (req: Request, res: Response) => {
  res.json({ users: 1 });
});
adminRouter.post("/reindex", (req: Request, res: Response) => res.sendStatus(202));
