// Its migrations, which its start runs first (objection's koa-ts example: npm run
// migrate && rm -rf dist && tsc && node dist/app.js): a file the app then reads.
require("fs").writeFileSync("migrated.json", JSON.stringify({ migrated: true }));
