// Stands in for AdonisJS's `node ace build`: the project compiled into build/.
const fs = require("fs");
const path = require("path");

fs.rmSync("build", { recursive: true, force: true });
fs.mkdirSync(path.join("build", "bin"), { recursive: true });
const source = fs.readFileSync(path.join("bin", "server.ts"), "utf8");
fs.writeFileSync(path.join("build", "bin", "server.js"), source.replace(/: number/g, ""));
console.log("build completed: cd build && node bin/server.js");
