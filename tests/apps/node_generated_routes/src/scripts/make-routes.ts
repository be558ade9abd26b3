import * as fs from "fs";

// Writes src/routes.ts from the table: one `[method, path]` per line.
const [input, output] = process.argv.slice(2);
const entries = fs
  .readFileSync(input, "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"))
  .map((line) => line.split(/\s+/));
fs.writeFileSync(output, `export const routes = ${JSON.stringify(entries)} as const;\n`);
