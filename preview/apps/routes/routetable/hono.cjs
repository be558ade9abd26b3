// Hono's part of the route table (index.cjs). Hono's modules bind its base class
// before an app can reach it, in ES modules as in CommonJS, so the loader adds
// RECORDER to the end of its hono-base module (index.cjs for `require`, hooks.mjs for
// `import`): there it hands the class to `recorder` below, which gives back a subclass
// recording each app it makes, and the module's binding (which `hono`'s own `Hono`
// extends) becomes that subclass. An app's public `routes` hold whole paths (a
// `route()`d app's copied into its parent's, under its prefix), so the apps listed are
// those no other app took with `route()`. Routes for every method whose path ends in
// `*` are middleware (`use`): left out.
'use strict';

const HONO_BASE = /[\\/]node_modules[\\/]hono[\\/]dist[\\/](?:cjs[\\/])?hono-base\.js$/;
const RECORDER = '\n;(function(){try{var t=globalThis[Symbol.for("preview.routetable")];'
  + 'var s=t&&t.hono&&t.hono(Hono);if(s){Hono=s;'
  + 'if(typeof exports==="object"&&exports&&exports.HonoBase)exports.HonoBase=s;}}'
  + 'catch(e){}})();\n';
const MAX_APPS = 1000;
const apps = new Set();
const taken = new WeakSet(); // apps another one `route()`d
let table = null;

function plain(path) {
  return path.replace(/(:[A-Za-z_$][\w$]*)\{[^}]*\}/g, '$1'); // `:id{[0-9]+}`: `:id`
}

function list() {
  const found = [];
  const seen = new Set(); // `basePath()` copies share their app's routes
  for (const app of apps) {
    if (taken.has(app) || !Array.isArray(app.routes) || seen.has(app.routes)) continue;
    seen.add(app.routes);
    for (const route of app.routes) {
      if (found.length >= table.MAX_ROUTES) return found;
      if (!route || typeof route.path !== 'string' || typeof route.method !== 'string') continue;
      let method = route.method.toUpperCase();
      if (method === 'ALL') {
        if (route.path.endsWith('*')) continue;
        method = 'ANY';
      }
      found.push([method, table.join('', plain(route.path))]);
    }
  }
  return found;
}

function recorder(Base) {
  if (typeof Base !== 'function' || typeof Base.prototype.route !== 'function') return null;
  const route = Base.prototype.route;
  Base.prototype.route = function route_(path, app) {
    try {
      if (app && typeof app === 'object') taken.add(app);
      table.later();
    } catch (error) { /* the app's route stands */ }
    return route.apply(this, arguments);
  };
  return class extends Base {
    constructor(...args) {
      super(...args);
      try {
        if (apps.size < MAX_APPS) apps.add(this);
        const fetch = this.fetch;
        if (typeof fetch === 'function') {
          this.fetch = function fetch_() {
            try { table.serving(); } catch (error) { /* as above */ }
            return fetch.apply(this, arguments);
          };
        }
        table.later();
      } catch (error) { /* the app stands */ }
    }
  };
}

module.exports = {
  HONO_BASE,
  RECORDER,
  start(given) {
    table = given;
    table.source('hono', list);
    table.hono = recorder;
  },
};
