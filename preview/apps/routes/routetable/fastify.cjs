// Fastify's part of the route table (index.cjs): what its router, find-my-way, is
// given by `on` (method or methods, and the whole path: plugins' prefixes already
// joined). Fastify requires find-my-way as a CommonJS module even where the app is an
// ES module, so its prototype is reached through the loader. A router that only ever
// gets routes for every method is Fastify's not-found router: left out. NestJS on
// Fastify goes the same way.
'use strict';

const routers = new Map(); // a router -> [[methods], path], ...
let table = null;
let within = 0; // find-my-way's `on` calls itself for an optional parameter's two paths

function list() {
  const found = [];
  for (const entries of routers.values()) {
    if (entries.every(([methods]) => methods.length > table.ANY_METHOD)) continue;
    for (const [methods, path] of entries) {
      if (found.length >= table.MAX_ROUTES) return found;
      const listed = methods.length > table.ANY_METHOD ? ['ANY'] : methods;
      for (const method of listed) found.push([method, path]);
    }
  }
  return found;
}

function patch(FindMyWay) {
  const proto = FindMyWay.prototype;
  const on = proto.on;
  proto.on = function on_(method, path) {
    within += 1;
    let result;
    try {
      result = on.apply(this, arguments);
    } finally {
      within -= 1;
    }
    if (within > 0) return result;
    try {
      const methods = (Array.isArray(method) ? method : [method])
        .filter((m) => typeof m === 'string').map((m) => m.toUpperCase());
      if (typeof path === 'string' && methods.length) {
        let entries = routers.get(this);
        if (entries === undefined) routers.set(this, (entries = []));
        if (entries.length < table.MAX_ROUTES) entries.push([methods, table.join('', path)]);
        table.later();
      }
    } catch (error) { /* the app's route stands */ }
    return result;
  };
  for (const name of ['lookup', 'find']) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    proto[name] = function serving() {
      try { table.serving(); } catch (error) { /* as above */ }
      return original.apply(this, arguments);
    };
  }
}

module.exports = {
  start(given) {
    table = given;
    table.source('fastify', list);
  },
  takes(request, exported) {
    return request.includes('find-my-way') && typeof exported === 'function'
      && exported.prototype && typeof exported.prototype.on === 'function'
      && typeof exported.prototype.lookup === 'function';
  },
  patch,
};
