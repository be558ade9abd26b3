// The route table of a running Express app (4 or 5; NestJS on Express too), for the
// preview service's endpoint list: loaded into the app's Node processes by the service
// (NODE_OPTIONS --require, see table.py), it records the routes and routers the
// app registers (Router's `route` and `use`, an app's `use` of another app) and writes
// them, joined under their mount paths, to ROUTE_TABLE_PATH as JSON:
// {"framework": "express", "routes": [["GET", "/api/users/:id"], ...]}. It reads what Express's public methods were given,
// never its internals' layers (whose shape changed between 4 and 5), and whatever it
// meets it never makes the app fail: every step of its own is inside a try.
'use strict';

(function recordRoutes() {
  const out = process.env.ROUTE_TABLE_PATH;
  if (!out) return;
  const Module = require('module');
  const fs = require('fs');
  const MAX_ROUTES = 2000;
  const MAX_DEPTH = 32;
  const ANY_METHOD = 8; // more methods than this on one route: an `all`
  const PATCHED = Symbol.for('preview.routetable');
  const routes = new Map(); // a router -> [[path, route], ...]
  const mounts = new Map(); // a router or an app -> [[path, router or app], ...]
  const apps = new Set();
  let timer = null;

  function entries(map, key) {
    let found = map.get(key);
    if (found === undefined) {
      found = [];
      map.set(key, found);
    }
    return found;
  }

  function paths(path) {
    if (typeof path === 'string') return [path];
    if (Array.isArray(path)) return path.flat(Infinity).filter((p) => typeof p === 'string');
    return []; // a RegExp: nothing a listing can show
  }

  function isRouter(fn) {
    return typeof fn === 'function' && Array.isArray(fn.stack) && typeof fn.handle === 'function';
  }

  function isApp(fn) {
    return typeof fn === 'function' && typeof fn.handle === 'function'
      && typeof fn.set === 'function' && typeof fn.init === 'function';
  }

  function later() {
    // Routes come in bursts (a start's synchronous registrations): one write after each.
    if (timer !== null) return;
    timer = setTimeout(write, 25);
    if (typeof timer.unref === 'function') timer.unref();
  }

  function join(prefix, path) {
    const joined = `${prefix}/${path}`.replace(/\/+/g, '/');
    return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
  }

  function routerOf(app) {
    // Express 4 makes `_router` at its first route (its `router` getter throws);
    // Express 5's `router` getter makes one.
    if (typeof app.lazyrouter === 'function') return app._router;
    return app.router;
  }

  function expand(owner, prefix, trail, found) {
    if (trail.includes(owner) || trail.length > MAX_DEPTH || found.length >= MAX_ROUTES) return;
    const deeper = [...trail, owner];
    if (isApp(owner)) {
      const router = routerOf(owner);
      if (router) expand(router, prefix, deeper, found);
    }
    for (const [path, route] of routes.get(owner) || []) {
      let methods = Object.keys(route.methods || {}).filter((m) => route.methods[m] && m !== '_all');
      // `all` sets every method Node knows (34): listed once, as the source's reading does.
      if (methods.length > ANY_METHOD) methods = ['any'];
      for (const method of methods) found.push([method.toUpperCase(), join(prefix, path)]);
    }
    for (const [path, child] of mounts.get(owner) || []) {
      expand(child, join(prefix, path), deeper, found);
    }
  }

  function write() {
    timer = null;
    try {
      const found = [];
      for (const app of apps) {
        if (!app.parent) expand(app, '', [], found); // mounted ones: under their parent
      }
      const seen = new Set();
      const unique = found.filter(([m, p]) => !seen.has(`${m} ${p}`) && seen.add(`${m} ${p}`));
      const staged = `${out}.${process.pid}.new`;
      const table = { framework: 'express', routes: unique.slice(0, MAX_ROUTES) };
      fs.writeFileSync(staged, JSON.stringify(table));
      fs.renameSync(staged, out);
    } catch (error) {
      // No table: the service reads the endpoints from the source instead.
    }
  }

  function mounted(owner, args, accept) {
    let path = '/';
    let rest = Array.from(args);
    if (rest.length && typeof rest[0] !== 'function') path = rest.shift();
    for (const fn of rest.flat(Infinity)) {
      if (accept(fn)) for (const p of paths(path)) entries(mounts, owner).push([p, fn]);
    }
    later();
  }

  function patchExpress(express) {
    const Router = express.Router;
    // Express 5's Router is a class; Express 4's is the prototype object of its routers.
    const proto = Router.prototype && typeof Router.prototype.route === 'function'
      ? Router.prototype : Router;
    const route = proto.route;
    proto.route = function route_(path) {
      const made = route.apply(this, arguments);
      try {
        for (const p of paths(path)) entries(routes, this).push([p, made]);
        later();
      } catch (error) { /* the app's route stands */ }
      return made;
    };
    const handle = proto.handle;
    if (typeof handle === 'function') {
      proto.handle = function handle_() {
        // A request is served: what is pending is written before it (once).
        if (timer !== null) {
          try { clearTimeout(timer); write(); } catch (error) { /* as above */ }
        }
        return handle.apply(this, arguments);
      };
    }
    const use = proto.use;
    proto.use = function use_() {
      try { mounted(this, arguments, isRouter); } catch (error) { /* as above */ }
      return use.apply(this, arguments);
    };
    const application = express.application;
    const init = application.init;
    application.init = function init_() {
      try { apps.add(this); } catch (error) { /* as above */ }
      return init.apply(this, arguments);
    };
    const appUse = application.use;
    application.use = function appUse_() {
      try { mounted(this, arguments, isApp); } catch (error) { /* as above */ }
      return appUse.apply(this, arguments);
    };
  }

  const load = Module._load;
  Module._load = function _load(request) {
    const exported = load.apply(this, arguments);
    try {
      if (typeof request === 'string' && request.includes('express')
          && typeof exported === 'function' && !exported[PATCHED]
          && typeof exported.Router === 'function' && exported.application
          && typeof exported.application.init === 'function') {
        exported[PATCHED] = true;
        patchExpress(exported);
      }
    } catch (error) { /* the app's module stands */ }
    return exported;
  };
}());
