import http from "http";

export function makeServer(): http.Server {
  return http.createServer((_request, response) => {
    response.setHeader("Content-Type", "application/json");
    response.end(JSON.stringify({ imported: "@/app" }));
  });
}
