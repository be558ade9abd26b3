// The History card: the requests kept for this generation (every way in: the tester,
// the proxy, the app's own origin), newest first, each with Replay against the running
// preview and, once replayed, the kept answer and the new one side by side with what
// differs (GET …/preview/requests, POST …/preview/requests/replay).

import * as api from './api.js';
import { $, h, setText, show } from './dom.js';
import { NewestAnswer, SUPERSEDED } from './newest.js';

const TOKEN_ERRORS = new Set(['missing_preview_token', 'invalid_preview_token', 'preview_token_expired']);
const SHOWN = 50;

function bodyText(body) {
  if (!body) return '';
  if (body.omitted) return `(${body.size} bytes, a page's asset: not kept)`;
  if (body.encoding === 'base64') return `(${body.size} bytes, binary)`;
  try {
    return JSON.stringify(JSON.parse(body.text), null, 2);
  } catch {
    return body.text;
  }
}

function answerText(side) {
  if (!side) return '';
  const status = side.status === null ? `no answer (${side.error})` : `${side.status}`;
  const headers = (side.headers || []).map(([name, value]) => `${name}: ${value}`).join('\n');
  return `${status}\n${headers}\n\n${bodyText(side.body)}`;
}

export class RequestHistoryCard {
  constructor({ previewToken, onError }) {
    this.previewToken = previewToken; // (gid, fresh) => a preview token of the tester's
    this.onError = onError;
    this.gid = null;
    this.results = new Map(); // request id → its last replay's result
    this.marked = []; // the JSON paths the generation's replays ignore (…/requests/volatile)
    this.shownId = null;
    this.listed = new NewestAnswer(); // a refresh per call made: answered in any order
    $('history-refresh').addEventListener('click', () => this.refresh());
    $('history-replay-all').addEventListener('click', () => this.replay('all'));
  }

  /** Another generation is shown: the last one's list, replays and their summary
   * ("replayed 1 … 1 changed") go at once, not when the new one's list comes (refresh). */
  forget(gid) {
    this.gid = gid;
    this.results.clear();
    $('history-list').replaceChildren();
    setText($('history-count'), '');
    setText($('history-summary'), '');
    show($('history-empty'), false);
    show($('history-diff'), false);
    this.marked = [];
    this.shownId = null;
    if (gid) $('history-har').href = api.requestsHarUrl(gid);
  }

  /** Mark (or, with ``keep`` false, forget) ``path`` as volatile for this generation:
   * its replays ignore what differs there from now on. */
  async markVolatile(path, keep = true) {
    const gid = this.gid;
    try {
      const current = (await api.volatilePaths(gid)).paths;
      const paths = keep ? [...new Set([...current, path])] : current.filter((p) => p !== path);
      const answer = await api.markVolatilePaths(gid, paths);
      if (gid !== this.gid) return;
      this.marked = answer.paths;
      if (this.shownId !== null) this.showResult(this.shownId);
    } catch (error) {
      this.onError(error);
    }
  }

  async refresh() {
    const gid = this.gid;
    if (!gid) return;
    try {
      const page = await this.listed.of(api.requests(gid, { limit: SHOWN, replays: 'false' }));
      if (page === SUPERSEDED || gid !== this.gid) return;
      $('history-list').replaceChildren(...page.requests.map((request) => this.row(request)));
      setText($('history-count'), page.requests.length ? `(${page.requests.length}${page.hasMore ? '+' : ''})` : '');
      show($('history-empty'), page.requests.length === 0);
    } catch (error) {
      this.onError(error);
    }
  }

  row(request) {
    const result = this.results.get(request.id);
    const verdict = result ? (result.skipped ? 'skipped' : result.same ? 'same' : 'changed') : '';
    const status = request.status === null ? 'e' : String(request.status).charAt(0);
    return h(
      'li',
      { dataset: { requestId: String(request.id) }, class: verdict ? `replayed ${verdict}` : '' },
      h('span', { class: 'mono history-method', text: request.method }),
      h('button', {
        type: 'button',
        class: 'file-open mono history-path',
        text: request.path,
        title: `${request.way} · ${request.startedAt} · ${request.requestId}`,
        disabled: result ? undefined : true,
        onclick: () => this.showResult(request.id),
      }),
      h('span', { class: 'status-code', dataset: { class: status }, text: request.status ?? '–' }),
      h('span', { class: 'hint', text: `${Math.round(request.totalMs)} ms` }),
      verdict ? h('span', { class: `badge history-verdict ${verdict}`, text: verdict }) : null,
      h('button', {
        type: 'button',
        class: 'button small ghost',
        text: 'Replay',
        'aria-label': `Replay ${request.method} ${request.path}`,
        onclick: () => this.replay([request.id]),
      }),
    );
  }

  async replay(ids) {
    const gid = this.gid;
    try {
      let answer;
      try {
        answer = await api.replayRequests(gid, await this.previewToken(false), ids);
      } catch (error) {
        if (!TOKEN_ERRORS.has(error.code)) throw error;
        answer = await api.replayRequests(gid, await this.previewToken(true), ids);
      }
      if (gid !== this.gid) return;
      this.marked = (await api.volatilePaths(gid)).paths;
      for (const result of answer.results) this.results.set(result.id, result);
      await this.refresh();
      if (gid !== this.gid) return;
      const first = answer.results.find((result) => result.same === false) || answer.results[0];
      if (first) this.showResult(first.id);
      // The summary comes last: once it reads "replayed …", the list and the answer shown are
      // this replay's, so a row the user opens from then on stays open.
      setText(
        $('history-summary'),
        `replayed ${answer.replayed} on revision ${answer.target.revision}: ${answer.same} same, ${answer.different} changed`,
      );
    } catch (error) {
      this.onError(error);
    }
  }

  showResult(id) {
    const result = this.results.get(id);
    if (!result) return;
    this.shownId = id;
    show($('history-diff'), true);
    setText($('history-diff-title'), `${result.method} ${result.path}`);
    setText($('history-before'), answerText(result.before));
    setText($('history-after'), result.skipped ? `not replayed: ${result.skipped}` : answerText(result.after));
    const items = [];
    const line = (text, ...more) => h('li', { class: 'mono' }, h('span', { text }), ...more);
    if (result.status) items.push(line(`status: ${result.status.before} → ${result.status.after}`));
    for (const header of result.headers || []) items.push(line(`${header.name}: ${header.before} → ${header.after}`));
    for (const change of result.body || []) {
      // A value the user knows changes by nature: ignored from the next replay on.
      const ignore = h('button', {
        type: 'button',
        class: 'button small ghost',
        text: 'Ignore',
        title: `Mark ${change.path} volatile: replays of this generation ignore it`,
        'aria-label': `Ignore ${change.path} in replays`,
        onclick: () => this.markVolatile(change.path),
      });
      items.push(line(`${change.path}: ${JSON.stringify(change.before)} → ${JSON.stringify(change.after)}`, ignore));
    }
    if (!items.length && !result.skipped) items.push(line('same (volatile values ignored)'));
    $('history-differences').replaceChildren(...items);
    setText($('history-ignored'), result.ignored?.length ? `ignored: ${result.ignored.join(', ')}` : '');
    const marked = this.marked.map((path) =>
      h(
        'span',
        { class: 'mono volatile-path' },
        path,
        h('button', {
          type: 'button',
          class: 'button small ghost',
          text: '×',
          title: `Compare ${path} again`,
          'aria-label': `Compare ${path} again in replays`,
          onclick: () => this.markVolatile(path, false),
        }),
      ),
    );
    $('history-marked').replaceChildren(...(marked.length ? [h('span', { text: 'marked volatile: ' }), ...marked] : []));
  }
}
