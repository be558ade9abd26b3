const fs = require("fs");
const path = require("path");

exports.greeting = () => fs.readFileSync(path.join(__dirname, "built.txt"), "utf8");
