// Koa's part of the route table (index.cjs): the routers (koa-router, @koa/router)
// whose middleware a Koa app `use`s (their `routes()` carry their router), each read
// at a write from its public `stack` of layers (path and methods; a nested router's
// layers are copied into its parent's with its prefix, a `prefix()` rewrites them).
// Layers without methods are middleware: left out.
'use strict';

const routers = new Set();
let table = null;

function list() {
  const found = [];
  for (const router of routers) {
    for (const layer of Array.isArray(router.stack) ? router.stack : []) {
      if (found.length >= table.MAX_ROUTES) return found;
      const methods = Array.isArray(layer.methods) ? layer.methods : [];
      if (typeof layer.path !== 'string' || !methods.length) continue;
      const listed = methods.length > table.ANY_METHOD ? ['ANY'] : methods;
      for (const method of listed) found.push([String(method).toUpperCase(), table.join('', layer.path)]);
    }
  }
  return found;
}

function patch(Application) {
  const proto = Application.prototype;
  const use = proto.use;
  proto.use = function use_(fn) {
    try {
      const router = fn && fn.router;
      if (router && Array.isArray(router.stack)) {
        routers.add(router);
        table.later();
      }
    } catch (error) { /* the app's middleware stands */ }
    return use.apply(this, arguments);
  };
  const handleRequest = proto.handleRequest;
  if (typeof handleRequest === 'function') {
    proto.handleRequest = function handleRequest_() {
      try { table.serving(); } catch (error) { /* as above */ }
      return handleRequest.apply(this, arguments);
    };
  }
}

module.exports = {
  start(given) {
    table = given;
    table.source('koa', list);
  },
  takes(request, exported) {
    return request.includes('koa') && typeof exported === 'function' && exported.prototype
      && typeof exported.prototype.use === 'function'
      && typeof exported.prototype.callback === 'function'
      && typeof exported.prototype.createContext === 'function';
  },
  patch,
};
