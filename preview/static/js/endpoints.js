// The app's endpoints (from its live OpenAPI while it runs, else from its source),
// each with a "Try" button that fills the request tester; below them, the latency of
// each route from the calls made so far (count, 5xx, p50/p95/p99).

import * as api from './api.js';
import { $, h, setText, show } from './dom.js';
import { NewestAnswer, SUPERSEDED } from './newest.js';

function sourceLabel(source) {
  if (!source || source.kind === 'openapi' || source === 'openapi') return 'openapi';
  if (source.kind === 'app' && !source.file) return 'the running app';
  return source.file ? `${source.file}${source.line ? `:${source.line}` : ''}` : String(source.kind || '');
}

const DOCS_PATHS = ['/docs', '/redoc', '/swagger', '/api/docs', '/apidocs'];

/**
 * The app's own API docs page, or null (then "Open app" opens its root): the one its
 * source sets (`docsPath`: FastAPI's docs_url, "/docs" by default, none when turned off;
 * FastAPI's docs routes are not in its OpenAPI, so only the service can say), else a docs
 * route among its endpoints (a Flask or Express app's own).
 */
export function docsPath({ endpoints = [], docsPath: declared = null }) {
  if (declared) return declared;
  const routes = new Set(endpoints.filter((e) => e.method === 'GET').map((e) => e.path.replace(/\/$/, '')));
  return DOCS_PATHS.find((path) => routes.has(path)) ?? null;
}

export class EndpointList {
  constructor({ onTry, onError, onLoaded = () => {} }) {
    this.onTry = onTry;
    this.onError = onError;
    this.onLoaded = onLoaded;
    this.gid = null;
    // Loaded again on each start and each revision applied: the newest answer is drawn.
    this.listed = new NewestAnswer();
    this.measured = new NewestAnswer();
    $('latency-refresh').addEventListener('click', () => this.loadLatency(this.gid));
  }

  /** Another generation is shown: the last one's endpoints go (its own are loaded). */
  forget(gid) {
    this.gid = gid;
    this.clear();
  }

  clear() {
    $('endpoint-list').replaceChildren();
    setText($('endpoints-origin'), '');
    this.onLoaded?.(null);
    show($('endpoints-empty'), false);
    $('latency-rows').replaceChildren();
    setText($('latency-summary'), '');
    show($('latency'), false);
  }

  async load(gid) {
    this.gid = gid;
    try {
      const data = await this.listed.of(api.endpoints(gid));
      if (data === SUPERSEDED || this.gid !== gid) return; // (another generation was picked)
      this.render(data);
      this.onLoaded(docsPath(data));
    } catch (error) {
      this.onError(error);
    }
    await this.loadLatency(gid);
  }

  /** The latency table, from the calls recorded so far (none yet: hidden). */
  async loadLatency(gid) {
    if (!gid) return;
    let stats;
    try {
      stats = await this.measured.of(api.endpointStats(gid));
    } catch {
      return; // the list's own errors are the ones reported; the table waits for the next load
    }
    if (stats === SUPERSEDED || this.gid !== gid) return;
    this.renderLatency(stats);
  }

  renderLatency({ routes, calls, truncated }) {
    const ms = (value) => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
    setText($('latency-summary'), `${calls}${truncated ? '+' : ''} calls`);
    show($('latency'), routes.length > 0);
    $('latency-rows').replaceChildren(
      ...routes.slice(0, 50).map((route) =>
        h(
          'tr',
          {},
          h('td', { class: 'mono', text: `${route.method} ${route.path}`, title: route.declared ? 'declared by the app' : 'its ids collapsed' }),
          h('td', { text: route.count }),
          h('td', { text: route.errors, class: route.errors ? 'latency-errors' : undefined }),
          h('td', { text: ms(route.p50Ms) }),
          h('td', { text: ms(route.p95Ms) }),
          h('td', { text: ms(route.p99Ms), title: `slowest ${ms(route.maxMs)}` }),
        ),
      ),
    );
  }

  render({ endpoints, discoveredFrom, live }) {
    const origins = {
      openapi: live === false ? 'from its last run\'s OpenAPI' : 'from the live OpenAPI',
      app: live === false ? 'from its last run\'s own routes' : 'from the running app\'s own routes',
    };
    const origin = origins[discoveredFrom] || 'from the source';
    setText($('endpoints-origin'), origin);
    show($('endpoints-empty'), endpoints.length === 0);
    $('endpoint-list').replaceChildren(
      ...endpoints.map((endpoint) =>
        h(
          'li',
          { class: 'endpoint' },
          h('span', { class: `method method-${endpoint.method}`, text: endpoint.method }),
          h(
            'span',
            { class: 'endpoint-text' },
            h('span', { class: 'mono endpoint-path', text: endpoint.path }),
            h('span', { class: 'hint', text: [endpoint.summary, sourceLabel(endpoint.source)].filter(Boolean).join(' · ') }),
          ),
          h('button', {
            type: 'button',
            class: 'button small',
            text: 'Try',
            'aria-label': `Try ${endpoint.method} ${endpoint.path}`,
            onclick: () => this.onTry(endpoint),
          }),
        ),
      ),
    );
  }
}
