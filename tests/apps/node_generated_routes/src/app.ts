import express from "express";
import { routes } from "./routes";

export const app = express();
for (const [method, path] of routes) {
  if (method === "get") app.get(path, (_req, res) => res.json({ path }));
}
