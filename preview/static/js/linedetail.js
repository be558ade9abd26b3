// The detail of one log line, opened by clicking it: the whole text (however long),
// JSON pretty-printed when the line is a JSON record (a line that is one JSON object has
// its fields listed above it, as the history's `fields` are), the request of a `proxy`
// line when this tab sent it from the request tester, a Copy button, and a note to pin to
// it (POST …/preview/annotations: said in the log to everyone watching).

import { $, h, setText, show } from './dom.js';
import { fieldText, lineFields } from './fields.js';

const REQUEST_ID = /\[([A-Za-z0-9_-]+)\]$/;

/** The line's JSON (the whole line, or a record after a prefix), pretty-printed, or null. */
export function prettyJson(text) {
  const start = text.search(/[{[]/);
  if (start < 0) return null;
  try {
    const value = JSON.parse(text.slice(start));
    if (value === null || typeof value !== 'object') return null;
    const pretty = JSON.stringify(value, null, 2);
    return start ? `${text.slice(0, start)}\n${pretty}` : pretty;
  } catch {
    return null;
  }
}

/** The line's fields (a JSON object's or a logfmt record's), each value a button that
 * filters the terminal by it (`onFilter({name, op, value})`). */
function renderFields(fields, onFilter) {
  const list = $('line-detail-fields');
  const entries = fields ? Object.entries(fields).slice(0, 100) : [];
  list.replaceChildren(
    ...entries.flatMap(([name, value]) => [
      h('dt', { class: 'mono', text: name }),
      h(
        'dd',
        { class: 'mono' },
        h('button', {
          type: 'button',
          class: 'field-value',
          title: `Show only the lines whose ${name} is this (the toolbar then offers other comparisons)`,
          text: fieldText(value),
          onclick: () => onFilter({ name, op: '=', value: fieldText(value) }),
        }),
      ),
    ]),
  );
  show(list, entries.length > 0);
}

function formatRequest(record) {
  const lines = [`${record.method} ${record.path}`];
  if (record.error) lines.push(`error: ${record.error}`);
  const result = record.result;
  if (result) {
    lines.push(`-> ${result.statusCode} in ${result.elapsedMs} ms`);
    const body = typeof result.data === 'string' ? result.data : JSON.stringify(result.data, null, 2);
    if (body) lines.push('', body.length > 20_000 ? `${body.slice(0, 20_000)}…` : body);
  }
  return lines.join('\n');
}

export class LineDetail {
  /** `findRequest(requestId)`: this tab's record of that request, or null;
   * `pinNote(seq, text)`: pins a note to the line `seq` of the log shown;
   * `onFilterField(condition)`: a field's value was clicked, to filter the log by. */
  constructor({ findRequest = () => null, onClose = () => {}, pinNote = null, onFilterField = () => {} } = {}) {
    this.findRequest = findRequest;
    this.onFilterField = onFilterField;
    this.onClose = onClose;
    this.pinNote = pinNote;
    this.entry = null;
    $('line-detail-close').addEventListener('click', () => this.close());
    $('line-detail-copy').addEventListener('click', () => this.copy());
    $('line-detail-note').addEventListener('submit', (event) => {
      event.preventDefault();
      this.pin();
    });
    show($('line-detail-note'), Boolean(pinNote));
    $('line-detail').addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.close();
    });
  }

  open(entry) {
    this.entry = entry;
    setText($('line-detail-title'), `Line ${entry.id}`);
    const app = entry.process ? `app: ${entry.process}` : 'app';
    const origin = entry.source === 'app' && entry.stream ? `${app} (${entry.stream})` : entry.source;
    setText($('line-detail-meta'), `${entry.timestamp} · ${entry.level} · ${origin}`);
    setText($('line-detail-text'), prettyJson(entry.plain) ?? entry.plain);
    renderFields(lineFields(entry.plain), (condition) => {
      this.close();
      this.onFilterField(condition);
    });
    const requestId = entry.source === 'proxy' ? REQUEST_ID.exec(entry.plain)?.[1] : null;
    const record = requestId ? this.findRequest(requestId) : null;
    setText($('line-detail-request-text'), record ? formatRequest(record) : '');
    show($('line-detail-request'), Boolean(record));
    setText($('line-detail-status'), '');
    show($('line-detail'), true);
  }

  close() {
    this.entry = null;
    show($('line-detail'), false);
    this.onClose();
  }

  /** Another generation is shown: a line of the last one's log is no longer open. */
  forget() {
    this.entry = null;
    show($('line-detail'), false);
    setText($('line-detail-status'), '');
  }

  async pin() {
    const entry = this.entry;
    const text = $('line-detail-note-text').value.trim();
    if (!entry || !text || !this.pinNote) return;
    try {
      await this.pinNote(entry.id, text);
      if (this.entry !== entry) return;
      $('line-detail-note-text').value = '';
      setText($('line-detail-status'), 'Note pinned: everyone watching sees it in the log.');
    } catch (error) {
      setText($('line-detail-status'), `Not pinned: ${error.message}`);
    }
  }

  async copy() {
    if (!this.entry) return;
    try {
      await navigator.clipboard.writeText(this.entry.plain);
      setText($('line-detail-status'), 'Copied.');
    } catch {
      // No clipboard permission (an insecure origin, say): select the text instead.
      window.getSelection().selectAllChildren($('line-detail-text'));
      setText($('line-detail-status'), 'Selected: press Ctrl+C to copy.');
    }
  }
}
