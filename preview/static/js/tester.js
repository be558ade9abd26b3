// The request tester: builds the envelope {method, path, query, headers, body}, sends
// it through the service (POST …/preview/request with X-Preview-Token) and shows the
// app's answer. Every request of this tab is listed (sessionStorage, per generation);
// each can be shown again or found in the terminal by its request id.

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

/** An example value for a path parameter, from its schema. */
function example(parameter) {
  const type = parameter?.schema?.type;
  if (type === 'integer' || type === 'number') return '1';
  if (type === 'boolean') return 'true';
  return parameter?.schema?.example !== undefined ? String(parameter.schema.example) : 'example';
}

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
  }

  setGeneration(gid) {
    this.gid = gid;
    this.shown = null;
    show($('tester-response'), false);
    this.showError(null);
    this.renderHistory();
  }

  /** Fill the form from a discovered endpoint ("Try"). */
  fill(endpoint) {
    const parameters = endpoint.parameters || [];
    const path = endpoint.path.replace(/\{([^}/]+)\}/g, (whole, name) =>
      example(parameters.find((p) => p.in === 'path' && p.name === name)),
    );
    $('tester-method').value = endpoint.method;
    $('tester-path').value = path;
    $('tester-query').value = parameters
      .filter((p) => p.in === 'query' && p.required)
      .map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(example(p))}`)
      .join('&');
    const takesBody = endpoint.requestBody && !['GET', 'HEAD', 'DELETE'].includes(endpoint.method);
    $('tester-body').value = takesBody ? JSON.stringify(exampleOf(endpoint.requestBody) ?? {}, null, 2) : '';
    this.showError(null);
    $('tester-path').focus();
  }

  showError(message) {
    setText($('tester-error'), message || '');
    show($('tester-error'), Boolean(message));
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
      // The error is this request's answer: the previous response goes, not stays below.
      this.shown = null;
      show($('tester-response'), false);
      this.showError(record.error);
    } finally {
      button.disabled = false;
    }
    if (gid !== this.gid) return;
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
    setText($('response-time'), `${result.elapsedMs} ms · ${record.method} ${record.path}`);
    const headerLines = Object.entries(result.headers || {}).flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) => `${name}: ${v}`),
    );
    setText($('response-headers'), headerLines.join('\n'));
    const base64 = result.dataEncoding === 'base64';
    setText($('response-encoding'), base64 ? `Binary body, shown base64-encoded (${Math.floor((String(result.data).length * 3) / 4)} bytes)` : '');
    show($('response-encoding'), base64);
    let text = bodyText(result) ?? '';
    if (text.length > SHOWN_BODY_CHARS) text = `${text.slice(0, SHOWN_BODY_CHARS)}\n… (${text.length - SHOWN_BODY_CHARS} more characters)`;
    setText($('response-body'), text);
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
