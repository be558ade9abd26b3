// Express's part of the route table (index.cjs): the routes and routers an Express
// app (4 or 5; NestJS on Express too) registers (Router's `route` and `use`, an app's
// `use` of another app), joined under their mount paths. It reads what Express's
// public methods were given, never its internals' layers (whose shape changed between
// 4 and 5). It also prints an error the app's own error handler answers with a 5xx
// and prints nothing of (below: `telling`), the log's only word of that 500's cause.
'use strict';

const MAX_DEPTH = 32;
const routes = new Map(); // a router -> [[path, route], ...]
const mounts = new Map(); // a router or an app -> [[path, router or app], ...]
const apps = new Set();
let table = null;

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

function routerOf(app) {
  // Express 4 makes `_router` at its first route (its `router` getter throws);
  // Express 5's `router` getter makes one.
  if (typeof app.lazyrouter === 'function') return app._router;
  return app.router;
}

function expand(owner, prefix, trail, found) {
  if (trail.includes(owner) || trail.length > MAX_DEPTH || found.length >= table.MAX_ROUTES) return;
  const deeper = [...trail, owner];
  if (isApp(owner)) {
    const router = routerOf(owner);
    if (router) expand(router, prefix, deeper, found);
  }
  for (const [path, route] of routes.get(owner) || []) {
    let methods = Object.keys(route.methods || {}).filter((m) => route.methods[m] && m !== '_all');
    // `all` sets every method Node knows (34): listed once, as the source's reading does.
    if (methods.length > table.ANY_METHOD) methods = ['any'];
    for (const method of methods) found.push([method.toUpperCase(), table.join(prefix, path)]);
  }
  for (const [path, child] of mounts.get(owner) || []) {
    expand(child, table.join(prefix, path), deeper, found);
  }
}

function list() {
  const found = [];
  for (const app of apps) {
    if (!app.parent) expand(app, '', [], found); // mounted ones: under their parent
  }
  return found;
}

function mounted(owner, args, accept) {
  let path = '/';
  const rest = Array.from(args);
  if (rest.length && typeof rest[0] !== 'function') path = rest.shift();
  for (const fn of rest.flat(Infinity)) {
    if (accept(fn)) for (const p of paths(path)) entries(mounts, owner).push([p, fn]);
  }
  table.later();
}

// An error the app's own error handler (a middleware of four parameters) answers with a
// 5xx and prints nothing of: express-generator's handler renders it into its error page
// and logs nothing (gulshank721's restaurentExpressServer: /users/logout's
// "ReferenceError: next is not defined" was in the page alone), so the log held a 500 and
// no cause. Printed here, its stack whole, once; not where the handler printed its
// message itself, nor an error it answers below 500 (a 404 of the app's own).
const told = new WeakSet();
const TELLING = Symbol('preview.telling'); // a handler already wrapped (app.use calls router.use)

function watched(write, message, seen) {
  return function write_(chunk) {
    try { if (String(chunk).includes(message)) seen.said = true; } catch (error) { /* its own */ }
    return write.apply(this, arguments);
  };
}

function telling(handler) {
  if (typeof handler !== 'function' || handler.length !== 4 || handler[TELLING]
    || isRouter(handler) || isApp(handler)) {
    return handler;
  }
  const wrapped = function errorHandler_(err, req, res, next) {
    const message = err instanceof Error && typeof err.stack === 'string' ? String(err.message) : null;
    const seen = { said: false };
    const out = process.stdout.write;
    const errors = process.stderr.write;
    if (message) {
      process.stdout.write = watched(out, message, seen);
      process.stderr.write = watched(errors, message, seen);
    }
    try {
      return handler.apply(this, arguments);
    } finally {
      if (message) {
        process.stdout.write = out;
        process.stderr.write = errors;
      }
      try {
        if (message && !seen.said && !told.has(err) && res && res.statusCode >= 500) {
          told.add(err);
          errors.call(process.stderr, `${err.stack}\n`);
        }
      } catch (error) { /* the app's answer stands */ }
    }
  };
  wrapped[TELLING] = true;
  return wrapped;
}

function withErrorsTold(args) {
  return Array.from(args).map((arg) => (Array.isArray(arg) ? arg.flat(Infinity).map(telling) : telling(arg)));
}

function patch(express) {
  const Router = express.Router;
  // Express 5's Router is a class; Express 4's is the prototype object of its routers.
  const proto = Router.prototype && typeof Router.prototype.route === 'function'
    ? Router.prototype : Router;
  const route = proto.route;
  proto.route = function route_(path) {
    const made = route.apply(this, arguments);
    try {
      for (const p of paths(path)) entries(routes, this).push([p, made]);
      table.later();
    } catch (error) { /* the app's route stands */ }
    return made;
  };
  const handle = proto.handle;
  if (typeof handle === 'function') {
    proto.handle = function handle_() {
      try { table.serving(); } catch (error) { /* as above */ }
      return handle.apply(this, arguments);
    };
  }
  const use = proto.use;
  proto.use = function use_() {
    try { mounted(this, arguments, isRouter); } catch (error) { /* as above */ }
    let args = arguments;
    try { args = withErrorsTold(arguments); } catch (error) { /* as above */ }
    return use.apply(this, args);
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
    let args = arguments;
    try { args = withErrorsTold(arguments); } catch (error) { /* as above */ }
    return appUse.apply(this, args);
  };
}

module.exports = {
  start(given) {
    table = given;
    table.source('express', list);
  },
  takes(request, exported) {
    return request.includes('express') && typeof exported === 'function'
      && typeof exported.Router === 'function' && exported.application
      && typeof exported.application.init === 'function';
  },
  patch,
};
