// The route table of a running Node app, for the preview service's endpoint list:
// loaded into the app's Node processes by the service (NODE_OPTIONS --require, see
// table.py), it records the routes the app registers with Express (4, 5; NestJS on
// Express), Fastify (3-5; NestJS on Fastify), Koa's routers (koa-router, @koa/router)
// or Hono (4), and writes them to ROUTE_TABLE_PATH as JSON:
// {"framework": "express", "routes": [["GET", "/api/users/:id"], ...]}.
// Each framework's part (express.cjs, fastify.cjs, koa.cjs, hono.cjs) is given what
// that framework's module exports when the app loads it, and reads what its public
// methods are given; whatever it meets, it never makes the app fail: every step of its
// own is inside a try.
'use strict';

(function recordRoutes() {
  const out = process.env.ROUTE_TABLE_PATH;
  const KEY = Symbol.for('preview.routetable');
  if (!out || globalThis[KEY]) return; // no table asked for, or loaded twice
  const Module = require('module');
  const fs = require('fs');
  const path = require('path');
  const MAX_ROUTES = 2000;
  const PATCHED = Symbol.for('preview.routetable.patched');
  const sources = []; // [framework, () => [[method, path], ...]]
  let timer = null;
  let served = false;

  function write() {
    timer = null;
    try {
      let framework = null;
      const found = [];
      for (const [name, list] of sources) {
        const routes = list();
        if (routes.length && framework === null) framework = name;
        found.push(...routes);
      }
      if (framework === null) return;
      const seen = new Set();
      const unique = found.filter(([m, p]) => !seen.has(`${m} ${p}`) && seen.add(`${m} ${p}`));
      // HEAD beside GET is the framework's own (Fastify's, Koa's): listed as GET only.
      const table = {
        framework,
        routes: unique.filter(([m, p]) => m !== 'HEAD' || !seen.has(`GET ${p}`)).slice(0, MAX_ROUTES),
      };
      const staged = `${out}.${process.pid}.new`;
      fs.writeFileSync(staged, JSON.stringify(table));
      fs.renameSync(staged, out);
    } catch (error) {
      // No table: the service reads the endpoints from the source instead.
    }
  }

  const table = {
    MAX_ROUTES,
    ANY_METHOD: 8, // more methods than this on one route: an `all`
    /** A framework's routes, listed at each write. */
    source(framework, list) {
      sources.push([framework, list]);
    },
    /** Routes come in bursts (a start's synchronous registrations): one write after each. */
    later() {
      if (timer !== null) return;
      timer = setTimeout(write, 25);
      if (typeof timer.unref === 'function') timer.unref();
    },
    /** A request is being served: what is pending is written before it, and everything
     * at the first one (a framework may have added routes without a word). */
    serving() {
      if (served && timer === null) return;
      served = true;
      if (timer !== null) clearTimeout(timer);
      write();
    },
    join(prefix, route) {
      const joined = `${prefix}/${route}`.replace(/\/+/g, '/');
      return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
    },
  };
  globalThis[KEY] = table;

  function installedHere(name) {
    // In a node_modules of the app's directory or above it (its package's `exports`
    // may not name package.json, so the file is looked for rather than resolved).
    try {
      for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, 'node_modules', name, 'package.json'))) return true;
        if (path.dirname(dir) === dir) return false;
      }
    } catch (error) {
      return false;
    }
  }

  const parts = [require('./express.cjs'), require('./fastify.cjs'), require('./koa.cjs')];
  for (const part of parts) part.start(table);
  const load = Module._load;
  Module._load = function _load(request) {
    const exported = load.apply(this, arguments);
    try {
      // (Its own property only: a module's exports still loading in a require cycle
      // have Node's warning proxy as their prototype, which warns at every name they
      // lack: "Accessing non-existent property ... inside circular dependency".)
      const patched = (typeof exported === 'object' || typeof exported === 'function')
        && Object.prototype.hasOwnProperty.call(exported, PATCHED);
      if (typeof request === 'string' && exported && !patched) {
        const part = parts.find((p) => p.takes(request, exported));
        if (part) {
          exported[PATCHED] = true;
          part.patch(exported);
        }
      }
    } catch (error) { /* the app's module stands */ }
    return exported;
  };

  // Hono's class is not reachable through what its modules export (its own modules
  // bind it before an app can see it, in ES modules too), so the line that records its
  // apps is added to the end of its hono-base module as Node reads it.
  if (!installedHere('hono')) return;
  try {
    const hono = require('./hono.cjs');
    hono.start(table);
    const compile = Module.prototype._compile;
    Module.prototype._compile = function _compile(content, filename) {
      let source = content;
      try {
        if (typeof filename === 'string' && hono.HONO_BASE.test(filename)) source += hono.RECORDER;
      } catch (error) { /* as it is */ }
      return compile.call(this, source, filename);
    };
    const hooks = path.join(__dirname, 'hooks.mjs');
    // A hook module that cannot be loaded would end the app (on the hooks' thread,
    // beyond this try): registered only where it can be read.
    if (typeof Module.register === 'function' && fs.statSync(hooks).isFile()) {
      fs.accessSync(hooks, fs.constants.R_OK);
      Module.register(require('url').pathToFileURL(hooks));
    }
  } catch (error) { /* the app's modules stand */ }
}());
