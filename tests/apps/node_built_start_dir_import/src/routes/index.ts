const notes = [
  { id: 1, text: "buy milk" },
  { id: 2, text: "write tests" },
];

export function route(method: string, url: string): { status: number; body: unknown } {
  if (method === "GET" && url === "/notes") return { status: 200, body: notes };
  if (method === "GET" && url === "/") return { status: 200, body: { service: "notes" } };
  return { status: 404, body: { error: "not found" } };
}
