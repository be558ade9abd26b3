// Its table exists only if the service ran `prisma db push`; its client only if the
// build ran `prisma generate`.
const http = require("http");
const { PrismaClient } = require("@prisma/client");

const prisma = new PrismaClient();

http
  .createServer(async (req, res) => {
    if (req.method === "POST") await prisma.note.create({ data: { text: "hi" } });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(await prisma.note.findMany()));
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
