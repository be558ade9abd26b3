import express, { Request, Response } from "express";

interface Item {
  id: number;
  name: string;
}

const items: Item[] = [{ id: 1, name: "typed apple" }];
const app = express();

app.get("/items/:id", (req: Request, res: Response) => {
  const found = items.find((item) => item.id === Number(req.params.id));
  res.status(found ? 200 : 404).json(found ?? { error: "not found" });
});
app.get("/", (_req: Request, res: Response) => res.json({ compiled: __filename.endsWith(".js") }));

const port = Number(process.env.PORT ?? 3000);
app.listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
