import { createServer } from "node:http";

type Greeting = { hello: string; watched: boolean };

const greet = (name: string): Greeting => ({
  hello: name,
  // tsx's watch mode runs the app under a watcher process with this flag in its argv.
  watched: process.execArgv.some((arg) => arg.includes("watch")),
});

const server = createServer((req, res) => {
  const name = decodeURIComponent((req.url ?? "/").slice(1)) || "world";
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(greet(name)));
});
const port = Number(process.env.PORT ?? 3000);
server.listen(port, "127.0.0.1", () => console.log(`dev server on ${port}`));
