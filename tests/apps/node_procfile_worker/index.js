const http = require('http');

http
  .createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ ok: true }));
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
