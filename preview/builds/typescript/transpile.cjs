// tsc's JavaScript without its type check: every file a tsc project would emit, written
// where tsc writes it, by the project's own TypeScript (ts.transpileModule: the per-file
// emit ts-node --transpile-only runs). See transpile.py for when the service runs it.
//
// node -e <this> -- <tsconfig> [--nest] [--clean]
//   --nest   the project is built by `nest build`, which rewrites the imports tsconfig
//            `baseUrl` and `paths` resolve: rewritten here by Nest's own hook (refused,
//            exit 3, where it cannot be loaded), as is a project this emit differs on.
//   --clean  its outDir removed first (nest-cli.json's deleteOutDir).
// Exit 0: written; 1: a source does not parse (tsc would fail as well); 3: refused, the
// reason on stderr ("not transpiled: …"): the caller runs the project's own build.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const RECORD = ".preview-transpile.json"; // in outDir: what its last emit there read

const started = Date.now();
const [project, ...flags] = process.argv.slice(1).filter((a) => a !== "--");
const refuse = (why) => {
  process.stderr.write(`not transpiled: ${why}\n`);
  process.exit(3);
};
let ts;
try {
  ts = require(require.resolve("typescript", { paths: [process.cwd()] }));
} catch (error) {
  refuse("the project's typescript package cannot be loaded");
}
const configPath = path.resolve(project || "tsconfig.json");
let unreadable = null;
const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    unreadable = ts.flattenDiagnosticMessageText(d.messageText, "\n");
  },
});
if (!parsed || unreadable) refuse(`its tsconfig cannot be read (${unreadable})`);
const options = parsed.options;
const kind = options.module;
const commonjs = kind === undefined
  ? (options.target || 0) < ts.ScriptTarget.ES2015
  : kind === ts.ModuleKind.CommonJS;
// Per-file emit keeps a re-export of a type, which an ES module then fails to import;
// the project says it never writes one where it asks for isolated modules.
if (!commonjs && !options.isolatedModules && !options.verbatimModuleSyntax) {
  refuse("ES module output from a project not declared isolatedModules");
}
if (options.outFile || options.out) refuse("a single outFile");
if ((parsed.projectReferences || []).length) refuse("project references (tsc --build)");
if (options.noEmit || options.emitDeclarationOnly) refuse("it emits no JavaScript");
// `nest build` rewrites the imports its tsconfig's `baseUrl` and `paths` resolve (`src/user`,
// `@app/user`) into relative ones, by its own hook: the project's @nestjs/cli's, run here too.
const nest = flags.includes("--nest");
const rewriting = nest ? nestPathsHook() : null;
if (nest && !rewriting && options.paths && Object.keys(options.paths).length) {
  refuse("nest build rewrites its tsconfig paths and @nestjs/cli's hook cannot be loaded");
}
const inside = (file) => !file.split(path.sep).includes("node_modules");
const emitted = (file) => !/\.d\.[cm]?ts$/.test(file) && !/\.d\.[^.]+\.ts$/.test(file);

// Whether JSON modules resolve: the tsconfig's word, else tsc's own default, which is yes
// under `moduleResolution: bundler` (allenlin90's hono-drizzle-api: `import packageJson
// from "../../package.json" with { type: "json" }`, which tsc wrote to dist/; "Cannot find
// module 'dist/package.json'" where it was not). TypeScript before 5 has no such default.
const resolvesJson =
  typeof ts.getResolveJsonModule === "function"
    ? ts.getResolveJsonModule(options)
    : Boolean(options.resolveJsonModule);

// The program's files: the tsconfig's, and every file of the project they import (tsc
// follows imports beyond `include`: a `files` list of the entry alone takes in the app).
const host = ts.createCompilerHost(options);
const files = [];
const seen = new Set();
const queue = parsed.fileNames.slice();
while (queue.length) {
  const file = path.resolve(queue.shift());
  if (seen.has(file) || !inside(file)) continue;
  seen.add(file);
  files.push(file);
  if (file.endsWith(".json")) continue;
  const text = fs.readFileSync(file, "utf8");
  for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
    const found = ts.resolveModuleName(imported.fileName, file, options, host).resolvedModule;
    if (found && !found.isExternalLibraryImport && inside(found.resolvedFileName)) {
      if (nest && !rewriting && !/^\.\.?(\/|$)/.test(imported.fileName)) {
        const why = `nest build rewrites ${imported.fileName} (by baseUrl)`;
        refuse(`${why} and @nestjs/cli's hook cannot be loaded`);
      }
      const ext = found.extension;
      if (ext === ".json" && !resolvesJson) continue;
      if ((ext === ".js" || ext === ".jsx") && !options.allowJs) continue;
      queue.push(found.resolvedFileName);
    }
  }
}
const sources = files.filter(emitted);
const outDir = options.outDir;
if (!outDir && sources.some((f) => /\.[cm]?jsx?$|\.json$/.test(f))) {
  refuse("JavaScript or JSON sources and no outDir");
}

// tsc's rootDir: the option, else a composite project's folder, else the common
// directory of its files but declarations (a JSON file imported from above src/ too:
// `import pkg from "../package.json"` makes tsc write dist/src/).
let rootDir = options.rootDir;
if (!rootDir && options.composite && options.configFilePath) {
  rootDir = path.dirname(options.configFilePath);
}
if (!rootDir) {
  const parts = sources.map((f) => path.dirname(f).split(path.sep));
  let common = parts[0] || [];
  for (const p of parts) {
    let i = 0;
    while (i < common.length && common[i] === p[i]) i++;
    common = common.slice(0, i);
  }
  rootDir = common.join(path.sep) || path.sep;
}
rootDir = path.resolve(rootDir);
// A JSON file imported from above the rootDir it is given (code-simple's boilerplate:
// `import { version } from "../../package.json"` in src/docs/, rootDir src): tsc emits it
// not, nor refuses it; the emitted import, as deep in outDir, reads it where it is.
for (let i = sources.length - 1; i >= 0; i--) {
  const file = sources[i];
  if (file.endsWith(".json") && path.relative(rootDir, file).startsWith("..")) sources.splice(i, 1);
}
for (const file of sources) {
  if (path.relative(rootDir, file).startsWith("..")) refuse(`${file} lies outside rootDir`);
}

const jsx = options.jsx === ts.JsxEmit.Preserve || options.jsx === ts.JsxEmit.ReactNative;
const outputName = (file) => {
  const base = outDir ? path.join(outDir, path.relative(rootDir, file)) : file;
  return base
    .replace(/\.mts$/, ".mjs")
    .replace(/\.cts$/, ".cjs")
    .replace(/\.tsx$/, jsx ? ".jsx" : ".js")
    .replace(/\.ts$/, ".js");
};
const emitOptions = {
  ...options,
  declaration: false,
  declarationMap: false,
  composite: false,
  incremental: false,
  tsBuildInfoFile: undefined,
  noEmit: false,
  // An enum declared `const` is read through its module by the files importing it here
  // (tsc inlines it): the object is kept for them.
  preserveConstEnums: true,
};
// Decorator metadata names a member's type (TypeORM reads a column's from it): for an enum,
// tsc emits String or Number by the enum's members, the per-file emit `Object`, knowing not
// that the name is an enum (lavellewarren's nestjs-crm-apis: `@Column() status:
// ContractStatus`, "Data type "Object" in "Contract.status" is not supported by "postgres"").
// The project's enums are read first (parsed, not checked), and a member's type naming one
// is emitted as tsc emits it.
// (TypeScript before 4.8 has other node factories: its metadata stays as its emit writes it.)
// (enumtypes.cjs, joined to this program: transpile.py)
const enumKinds = options.emitDecoratorMetadata && factoriesOf48(ts) ? projectEnums(ts, sources) : new Map();
const enumTypes = enumKinds.size ? enumTypesHook(ts, enumKinds) : null;
const before = [rewriting, enumTypes].filter(Boolean);
if (flags.includes("--clean") && outDir) fs.rmSync(outDir, { recursive: true, force: true });
const earlier = readRecord();
const record = { key: recordKey(), files: {} };
let broken = 0;
let unchanged = 0;
for (const file of sources) {
  const target = outputName(file);
  const source = fs.readFileSync(file, "utf8");
  const name = path.relative(process.cwd(), file);
  const digest = crypto.createHash("sha256").update(source).digest("hex");
  record.files[name] = digest;
  if (earlier.key === record.key && earlier.files[name] === digest && written(target, file)) {
    unchanged += 1;
    continue;
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (file.endsWith(".json") || (/\.[cm]?jsx?$/.test(file) && !options.allowJs)) {
    fs.copyFileSync(file, target);
    continue;
  }
  const out = ts.transpileModule(source, {
    compilerOptions: emitOptions,
    fileName: file,
    reportDiagnostics: true,
    transformers: before.length ? { before } : undefined,
  });
  for (const d of out.diagnostics || []) {
    if (d.category !== ts.DiagnosticCategory.Error) continue;
    const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    const where = at ? `${path.relative(process.cwd(), file)}(${at.line + 1},${at.character + 1})` : file;
    process.stdout.write(`${where}: error TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}\n`);
    broken += 1;
  }
  fs.writeFileSync(target, out.outputText);
  if (out.sourceMapText) fs.writeFileSync(`${target}.map`, out.sourceMapText);
}
if (broken) process.exit(1);
if (flags.includes("--nest")) copyNestAssets();
if (outDir) fs.writeFileSync(path.join(outDir, RECORD), JSON.stringify(record));
const shown = outDir ? `${path.relative(process.cwd(), outDir) || "."}/` : "beside its sources";
const seconds = ((Date.now() - started) / 1000).toFixed(1);
const count = sources.length - unchanged;
process.stdout.write(
  `transpiled ${count} file${count === 1 ? "" : "s"} to ${shown} in ${seconds} s ` +
  `with TypeScript ${ts.version}, ` +
  "without its type check" +
  (unchanged ? ` (${unchanged} unchanged since its last emit there)` : "") +
  "\n",
);

// What the last emit into outDir read: a file whose source and whole emit are the same as
// then is not emitted again (a revision's directory starts with the running one's output;
// a per-file emit of the same text with the same options is the same). The key holds all
// that is not the file's own text: TypeScript's version, the options (paths relative to the
// project), Nest's rewrite, and the list of sources (a rewritten import may resolve to a
// file added since).
function recordKey() {
  const here = process.cwd();
  const relative = (_key, value) =>
    typeof value === "string" && path.isAbsolute(value) ? path.relative(here, value) : value;
  const listed = sources.map((file) => path.relative(here, file)).sort();
  const enums = [...enumKinds].sort();
  const all = [ts.version, emitOptions, path.relative(here, rootDir), flags, listed, enums];
  return crypto.createHash("sha256").update(JSON.stringify(all, relative)).digest("hex");
}

function readRecord() {
  if (!outDir) return { key: null, files: {} };
  try {
    const read = JSON.parse(fs.readFileSync(path.join(outDir, RECORD), "utf8"));
    return read && typeof read.files === "object" && read.files ? read : { key: null, files: {} };
  } catch (error) {
    return { key: null, files: {} };
  }
}

// Its output there, and its source map where its emit writes one (a copied file has none).
function written(target, file) {
  const mapped = emitOptions.sourceMap && /\.[cm]?tsx?$/.test(file);
  return fs.existsSync(target) && (!mapped || fs.existsSync(`${target}.map`));
}

// Nest's own transformer of the imports `baseUrl` and `paths` resolve (its tsc compile's
// first `before` hook), from the project's @nestjs/cli; null where it cannot be loaded.
function nestPathsHook() {
  try {
    const where = require.resolve("@nestjs/cli/lib/compiler/hooks/tsconfig-paths.hook", {
      paths: [process.cwd()],
    });
    return require(where).tsconfigPathsBeforeHookFactory(options);
  } catch (error) {
    return null;
  }
}

// The files nest-cli.json's `assets` names, copied into outDir by Nest's own code (the
// project's @nestjs/cli), as `nest build` copies them after its compile.
function copyNestAssets() {
  if (!fs.existsSync("nest-cli.json")) return; // Nest's defaults: no assets
  // Read as TypeScript reads a tsconfig (comments and trailing commas allowed), as Nest does.
  const read = ts.parseConfigFileTextToJson("nest-cli.json", fs.readFileSync("nest-cli.json", "utf8"));
  if (read.error) refuse("its nest-cli.json cannot be read");
  const config = read.config || {};
  const assets = (config.compilerOptions || {}).assets;
  if (!Array.isArray(assets) || !assets.length) return;
  let AssetsManager;
  try {
    const where = require.resolve("@nestjs/cli/lib/compiler/assets-manager", { paths: [process.cwd()] });
    ({ AssetsManager } = require(where));
  } catch (error) {
    refuse("its nest-cli.json copies assets and @nestjs/cli's assets manager cannot be loaded");
  }
  const manager = new AssetsManager();
  manager.copyAssets({ sourceRoot: "src", ...config }, undefined, outDir, false);
  manager.closeWatchers();
}
