// ts-node's compiler (TS_NODE_COMPILER names this file): the project's own TypeScript,
// its transpileModule (ts-node's --transpile-only emit) writing an enum-typed member's
// decorator metadata as tsc does (enumtypes.cjs, joined to this file: tsnode.py). An app
// whose ORM loads its .ts entities at run time runs under ts-node, and the per-file emit
// wrote `Object` for `@Column() status: ContractStatus` (lavellewarren's nestjs-crm-apis:
// "Data type "Object" in "Contract.status" is not supported by "postgres"").
"use strict";
const path = require("path");

const ts = require(require.resolve("typescript", { paths: [process.cwd(), __dirname] }));
let kinds = null; // the project's enums, read once, at the first file emitted

// The project's enums, from the tsconfig ts-node reads (TS_NODE_PROJECT, else the one
// in the working directory): its files, parsed (never checked).
function projectKinds() {
  const config = process.env.TS_NODE_PROJECT || ts.findConfigFile(process.cwd(), ts.sys.fileExists);
  if (!config) return new Map();
  const parsed = ts.getParsedCommandLineOfConfigFile(path.resolve(config), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: () => {},
  });
  if (!parsed) return new Map();
  const inside = (file) => !file.split(/[\\/]/).includes("node_modules");
  return projectEnums(ts, parsed.fileNames.filter(inside));
}

// The transformers given, with the enum types' hook first among the `before` ones, where
// the project emits decorator metadata and has enums; else those given, as they are.
function withEnums(transformers, options) {
  if (!options || !options.emitDecoratorMetadata || !factoriesOf48(ts)) return transformers;
  if (kinds === null) kinds = projectKinds();
  if (!kinds.size) return transformers;
  const given = transformers || {};
  return { ...given, before: [enumTypesHook(ts, kinds), ...(given.before || [])] };
}

// ts-node before TypeScript 4.7 emits each file by ts.transpileModule.
function transpileModule(input, transpileOptions) {
  const options = transpileOptions && transpileOptions.compilerOptions;
  const transformers = withEnums(transpileOptions && transpileOptions.transformers, options);
  return ts.transpileModule(input, { ...transpileOptions, transformers });
}

// ts-node 10.9 on TypeScript 4.7 and later emits each file by a program of its own
// (ts-transpile-module.js: createProgram, then its emit with ts-node's transformers).
function createProgram(...args) {
  const program = ts.createProgram(...args);
  const first = args[0];
  const options = first && !Array.isArray(first) && typeof first === "object" ? first.options : args[1];
  const emit = program.emit;
  program.emit = (target, write, cancel, declarationsOnly, transformers) =>
    emit.call(program, target, write, cancel, declarationsOnly, withEnums(transformers, options));
  return program;
}

// Everything else is the project's TypeScript itself (its getters read through).
module.exports = Object.create(ts, {
  transpileModule: { value: transpileModule, enumerable: true },
  createProgram: { value: createProgram, enumerable: true },
});
