// The request tester: builds the envelope {method, path, query, headers, body}, sends
// it through the service (POST …/preview/request with X-Preview-Token) and shows the
// app's answer. Every request of this tab is listed (sessionStorage, per generation);
// each can be shown again or found in the terminal by its request id.
//
// A call that fails shows its error above the answer before it, which stays, labelled
// as the previous request's (an error is no answer, and the earlier one may be what the
// user compares with). A path parameter ("Try" on `/items/{id}` or `/items/:id`) is
// filled with an id seen in this tab's answers of the list route (`GET /items`), else a
// plausible guess, and the page says which part it filled in and from where.

import * as api from './api.js';
import { $, h, setText, show } from './dom.js';

const HISTORY_PREFIX = 'preview.requests.';
const HISTORY_SIZE = 30;
const SHOWN_BODY_CHARS = 200_000; // a huge body is cut for display (the DOM, not the data)
const TOKEN_ERRORS = new Set(['missing_preview_token', 'invalid_preview_token', 'preview_token_expired']);

function parseHeaders(text) {
  const headers = {};
  for (const [number, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`Header line ${number + 1} is not "Name: value".`);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** An example value for a query parameter, from its schema. */
function example(parameter) {
  const type = parameter?.schema?.type;
  if (type === 'integer' || type === 'number') return '1';
  if (type === 'boolean') return 'true';
  return parameter?.schema?.example !== undefined ? String(parameter.schema.example) : 'example';
}

// A path parameter as OpenAPI and FastAPI write it ({id}) or as Express does (:id, at a
// segment's start: `/items/{id}:cancel` is a custom method, not a parameter).
const PATH_PARAMETER = /\{([^}/]+)\}|(?<=\/):([A-Za-z_$][\w$]*)/g;
// A parameter named as an id: `id`, `item_id`, `itemId`, `uuid`.
const ID_NAME = /^(?:id|uuid|pk)$|_id$|[a-z]Id$/;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** The keys an answer's item may hold a parameter's value under: `itemId` is an item's
 * `itemId`, `item_id` or `id`. */
function keysFor(name) {
  const keys = [name];
  if (/_id$/.test(name)) keys.push(name.replace(/_id$/, 'Id'));
  if (/[a-z]Id$/.test(name)) keys.push(name.replace(/Id$/, '_id'));
  if (ID_NAME.test(name)) keys.push('id');
  return keys;
}

/** The items of a list answer: the array itself, or the first array among an
 * object's values ({items: […]}, {data: […]}); an object alone is one item (a POST's). */
function itemsOf(data) {
  if (Array.isArray(data)) return data;
  if (data && typeof data === 'object') {
    const list = Object.values(data).find(Array.isArray);
    return list || [data];
  }
  return [];
}

/** A guess for a path parameter with no answer to take it from, and why. */
function guessed(name, parameter) {
  const schema = parameter?.schema || {};
  if (schema.example !== undefined) return { value: String(schema.example), from: 'its schema\'s example' };
  if (Array.isArray(schema.enum) && schema.enum.length) return { value: String(schema.enum[0]), from: 'its first allowed value' };
  if (schema.format === 'uuid') return { value: NIL_UUID, from: 'a guess' };
  if (schema.type === 'boolean') return { value: 'true', from: 'a guess' };
  const typed = schema.type === 'integer' || schema.type === 'number';
  if (typed || ID_NAME.test(name) || !schema.type) return { value: '1', from: 'a guess' };
  return { value: 'example', from: 'a guess' };
}

// An empty body (a 204's, a HEAD's): the envelope's data is null with no bytes behind it.
const isEmptyBody = (result) => result.data === null && !(Number(result.headers?.['content-length']) > 0);

// The words after a status code, as a browser's network panel shows them.
const REASONS = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 205: 'Reset Content', 206: 'Partial Content',
  301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict',
  410: 'Gone', 413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/**
 * An example JSON value for a schema, as Swagger UI fills a request body: the schema's own
 * example or default, else the first enum value, else one built from its type (the
 * properties of an object, required ones first, one item of an array), bounded in depth.
 */
export function exampleOf(schema, depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > 6) return null;
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.default !== undefined && schema.default !== null) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  const choices = schema.anyOf || schema.oneOf || schema.allOf;
  if (Array.isArray(choices)) {
    const chosen = choices.find((choice) => choice && choice.type !== 'null') || choices[0];
    if (schema.allOf) return Object.assign({}, ...choices.map((part) => exampleOf(part, depth + 1) || {}));
    return exampleOf(chosen, depth + 1);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (type === 'object' || schema.properties) {
    const value = {};
    const required = new Set(schema.required || []);
    const names = Object.keys(schema.properties || {}).sort((a, b) => required.has(b) - required.has(a));
    for (const name of names) value[name] = exampleOf(schema.properties[name], depth + 1);
    return value;
  }
  if (type === 'array') return schema.items ? [exampleOf(schema.items, depth + 1)] : [];
  if (type === 'integer') return schema.minimum ?? 0;
  if (type === 'number') return schema.minimum ?? 0;
  if (type === 'boolean') return false;
  if (type === 'string') {
    const formats = { 'date-time': new Date(0).toISOString(), date: '1970-01-01', email: 'user@example.com', uuid: '00000000-0000-0000-0000-000000000000' };
    return formats[schema.format] || 'string';
  }
  return null;
}

function bodyText(result) {
  const data = result.data;
  if (result.dataEncoding === 'base64') return String(data);
  if (typeof data === 'string') return data;
  return JSON.stringify(data, null, 2);
}

export class RequestTester {
  constructor({ onReveal, onError }) {
    this.onReveal = onReveal;
    this.onError = onError;
    this.gid = null;
    this.shown = null;
    $('tester-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    $('response-log').addEventListener('click', () => {
      if (this.shown?.requestId) this.onReveal(this.shown.requestId);
    });
    // Edited by hand, the path is no longer what "Try" filled in.
    $('tester-path').addEventListener('input', () => this.showFilled([]));
  }

  /** Another generation is shown: nothing of the last one's requests stays, not the
   * form's method, path, query, headers and body, nor its answer or error. */
  forget(gid) {
    this.gid = gid;
    this.shown = null;
    $('tester-form').reset();
    this.showFilled([]);
    show($('tester-response'), false);
    this.showError(null);
    this.renderHistory();
  }

  /** Fill the form from a discovered endpoint ("Try"). */
  fill(endpoint) {
    const parameters = endpoint.parameters || [];
    const filled = [];
    let path = '';
    let rest = 0;
    for (const match of endpoint.path.matchAll(PATH_PARAMETER)) {
      path += endpoint.path.slice(rest, match.index);
      const name = match[1] ?? match[2];
      const parameter = parameters.find((p) => p.in === 'path' && p.name === name);
      const { value, from } = this.seen(path.replace(/\/$/, ''), name) || guessed(name, parameter);
      filled.push({ name, value, from, start: path.length });
      path += encodeURIComponent(value);
      rest = match.index + match[0].length;
    }
    path += endpoint.path.slice(rest);
    $('tester-method').value = endpoint.method;
    $('tester-path').value = path;
    $('tester-query').value = parameters
      .filter((p) => p.in === 'query' && p.required)
      .map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(example(p))}`)
      .join('&');
    const takesBody = endpoint.requestBody && !['GET', 'HEAD', 'DELETE'].includes(endpoint.method);
    $('tester-body').value = takesBody ? JSON.stringify(exampleOf(endpoint.requestBody) ?? {}, null, 2) : '';
    this.showError(null);
    this.showFilled(filled);
    const input = $('tester-path');
    input.focus();
    // The first filled-in value selected: the part to look at, replaced by typing.
    if (filled.length) input.setSelectionRange(filled[0].start, filled[0].start + encodeURIComponent(filled[0].value).length);
  }

  /**
   * The value of path parameter `name` in this tab's latest answer of the list route
   * `listPath` (`GET /items` for `/items/{id}`; a `POST /items`'s answer, the item it
   * made, counts too), or null.
   */
  seen(listPath, name) {
    const keys = keysFor(name);
    for (const record of this.history()) {
      if (record.path.split('?')[0] !== listPath || !record.result || record.statusCode >= 300) continue;
      if (record.method !== 'GET' && record.method !== 'POST') continue;
      for (const item of itemsOf(record.result.data)) {
        if (!item || typeof item !== 'object') continue;
        const key = keys.find((k) => typeof item[k] === 'string' || typeof item[k] === 'number');
        if (key !== undefined) return { value: String(item[key]), from: `the answer to ${record.method} ${listPath}` };
      }
    }
    return null;
  }

  /** Say which parts of the path "Try" filled in, with what and from where. */
  showFilled(filled) {
    const said = filled.map(({ name, value, from }) => `${name} = ${value} (${from})`);
    setText($('tester-filled'), said.length ? `Filled in: ${said.join('; ')}` : '');
    show($('tester-filled'), said.length > 0);
  }

  showError(message) {
    setText($('tester-error'), message || '');
    show($('tester-error'), Boolean(message));
  }

  /** A request that got no answer: its error, and the answer shown before it kept below,
   * said to be the previous request's (not silently gone, not taken for this one's). */
  showFailure(record) {
    this.showError(`This request failed (${record.method} ${record.path}): ${record.error}`);
    if (!this.shown || $('tester-response').hidden) return;
    const { method, path, statusCode } = this.shown;
    setText($('response-previous'), `The previous answer, to ${method} ${path} (${statusCode}), not to this request:`);
    show($('response-previous'), true);
    $('tester-response').dataset.previous = 'true';
  }

  envelope() {
    const envelope = { method: $('tester-method').value, path: $('tester-path').value.trim() || '/' };
    if (!envelope.path.startsWith('/')) envelope.path = `/${envelope.path}`;
    const query = $('tester-query').value.trim();
    if (query) envelope.query = query.replace(/^\?/, '');
    const headers = parseHeaders($('tester-headers').value);
    if (Object.keys(headers).length) envelope.headers = headers;
    const body = $('tester-body').value.trim();
    if (body) {
      try {
        envelope.body = JSON.parse(body);
      } catch (error) {
        throw new Error(`The body is not valid JSON: ${error.message}`);
      }
    }
    return envelope;
  }

  async previewToken(fresh) {
    if (api.access.get(this.gid) === 'caller') return null; // shared: no token of theirs
    let token = fresh ? null : api.previewTokens.get(this.gid);
    if (!token) {
      // A token is shown only when made; a reloaded tab asks for one of its own.
      token = (await api.newPreviewToken(this.gid)).previewToken;
      api.previewTokens.set(this.gid, token);
    }
    return token;
  }

  async send() {
    const gid = this.gid;
    let envelope;
    try {
      envelope = this.envelope();
    } catch (error) {
      this.showError(error.message);
      return;
    }
    this.showError(null);
    const button = $('tester-send');
    button.disabled = true;
    const record = { method: envelope.method, path: envelope.path + (envelope.query ? `?${envelope.query}` : ''), at: Date.now() };
    try {
      let result;
      try {
        result = await api.sendEnvelope(gid, await this.previewToken(false), envelope);
      } catch (error) {
        if (!TOKEN_ERRORS.has(error.code)) throw error;
        result = await api.sendEnvelope(gid, await this.previewToken(true), envelope);
      }
      Object.assign(record, { result, statusCode: result.statusCode, requestId: result.requestId });
    } catch (error) {
      Object.assign(record, { error: `${error.status || ''} ${error.code}: ${error.message}`.trim() });
    } finally {
      button.disabled = false;
    }
    if (gid !== this.gid) return;
    if (record.error) this.showFailure(record);
    this.remember(record);
    if (record.result) {
      this.showResponse(record);
      $('tester-response').scrollIntoView({ block: 'nearest' }); // the answer, in view
    }
  }

  showResponse(record) {
    const { result } = record;
    this.shown = record;
    const status = $('response-status');
    setText(status, `${result.statusCode}`);
    status.dataset.class = String(result.statusCode).charAt(0);
    setText($('response-reason'), REASONS[result.statusCode] || '');
    show($('response-previous'), false);
    delete $('tester-response').dataset.previous;
    setText($('response-time'), `${result.elapsedMs} ms · ${record.method} ${record.path}`);
    const headerLines = Object.entries(result.headers || {}).flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) => `${name}: ${v}`),
    );
    setText($('response-headers'), headerLines.join('\n'));
    const base64 = result.dataEncoding === 'base64';
    setText($('response-encoding'), base64 ? `Binary body, shown base64-encoded (${Math.floor((String(result.data).length * 3) / 4)} bytes)` : '');
    show($('response-encoding'), base64);
    const empty = isEmptyBody(result);
    let text = empty ? `(empty body: ${result.statusCode === 204 ? 'a 204 has none' : 'none was sent'})` : (bodyText(result) ?? '');
    if (text.length > SHOWN_BODY_CHARS) text = `${text.slice(0, SHOWN_BODY_CHARS)}\n… (${text.length - SHOWN_BODY_CHARS} more characters)`;
    setText($('response-body'), text);
    $('response-body').dataset.empty = String(empty);
    show($('response-log'), Boolean(record.requestId));
    show($('tester-response'), true);
  }

  /** This tab's record of a request, by its id (null if another tab or tool sent it). */
  record(requestId) {
    return this.history().find((record) => record.requestId === requestId) || null;
  }

  history() {
    try {
      return JSON.parse(sessionStorage.getItem(HISTORY_PREFIX + this.gid) || '[]');
    } catch {
      return [];
    }
  }

  remember(record) {
    const records = [record, ...this.history()].slice(0, HISTORY_SIZE);
    try {
      sessionStorage.setItem(HISTORY_PREFIX + this.gid, JSON.stringify(records));
    } catch {
      // Storage full (large bodies): keep the list without the bodies.
      const light = records.map(({ result, ...rest }) => rest);
      sessionStorage.setItem(HISTORY_PREFIX + this.gid, JSON.stringify(light));
    }
    this.renderHistory(records);
  }

  renderHistory(records = this.gid ? this.history() : []) {
    $('request-list').replaceChildren(
      ...records.map((record) => {
        const outcome = record.error ? 'error' : String(record.statusCode);
        const summary = h(
          'button',
          {
            type: 'button',
            class: 'request-summary',
            disabled: !record.result,
            onclick: () => this.showResponse(record),
          },
          h('span', { class: `method method-${record.method}`, text: record.method }),
          h('span', { class: 'mono request-path', text: record.path }),
          h('span', { class: 'status-code', dataset: { class: outcome.charAt(0) }, text: outcome }),
          h('span', { class: 'hint', text: record.result ? `${record.result.elapsedMs} ms` : '' }),
        );
        const log = record.requestId
          ? h('button', {
              type: 'button',
              class: 'button small ghost',
              text: 'Log',
              'aria-label': `Show ${record.method} ${record.path} in the terminal`,
              onclick: () => this.onReveal(record.requestId),
            })
          : null;
        return h('li', { dataset: { requestId: record.requestId || '' } }, summary, log);
      }),
    );
  }
}
