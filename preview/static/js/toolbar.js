// The terminal's toolbar: connection state, pause, line counts, timestamps, wrapping,
// level and source filters, conditions on a JSON or logfmt line's fields (added from a
// line's detail, each a chip whose comparison can be changed: `=`, `≠`, and between
// numbers `≥`, `≤`, `>`, `<`), search (with next/previous match and context lines), and
// the download links (served by the history endpoint, so a download holds every stored
// line, not only those in this page's memory).

import * as api from './api.js';
import { $, h, setText, show } from './dom.js';
import { COMPARISONS, conditionParam, isNumber } from './fields.js';
import { LEVELS, SOURCES } from './logmodel.js';

const SEARCH_DELAY_MS = 150; // one filter pass per pause in typing, not per key
const STATE_TEXT = { idle: 'idle', connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', ended: 'ended' };
const CONTEXT = { 0: 0, 2: 2, 5: 5, all: Infinity };

const checked = (fieldset) => [...fieldset.querySelectorAll('input:checked')].map((input) => input.value);

export class Toolbar {
  constructor({ onFilter, onTimestamps, onWrap = () => {}, onPause = () => {}, onMatch = () => null }) {
    Object.assign(this, { onFilter, onPause, onMatch });
    this.levelSet = $('level-filter');
    this.sourceSet = $('source-filter');
    this.search = $('log-search');
    this.target = null; // {gid, previewId} whose log the downloads fetch
    this.timer = null;
    this.state = 'idle';
    this.paused = false;
    this.applied = null; // the query the terminal shows, once applied
    this.fields = []; // conditions on a line's fields: {name, op, value}
    const changed = () => this.emit();
    this.levelSet.addEventListener('change', changed);
    this.sourceSet.addEventListener('change', changed);
    $('hide-probes').addEventListener('change', changed);
    $('search-context').addEventListener('change', changed);
    this.search.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(changed, SEARCH_DELAY_MS);
    });
    this.search.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      clearTimeout(this.timer);
      // The first Enter applies the search at once; the next ones step through matches.
      if (this.applied !== this.search.value.trim()) changed();
      else this.step(event.shiftKey ? -1 : 1);
    });
    $('search-next').addEventListener('click', () => this.step(1));
    $('search-prev').addEventListener('click', () => this.step(-1));
    $('pause').addEventListener('click', () => onPause(!this.paused));
    $('show-timestamps').addEventListener('change', (event) => onTimestamps(event.target.checked));
    $('wrap-lines').addEventListener('change', (event) => onWrap(event.target.checked));
    $('download-format').addEventListener('change', () => this.updateDownloads());
    this.updateDownloads();
  }

  filter() {
    return {
      levels: checked(this.levelSet),
      sources: checked(this.sourceSet),
      query: this.search.value.trim(),
      context: CONTEXT[$('search-context').value] ?? 0,
      hideProbes: $('hide-probes').checked,
      fields: this.fields.map((condition) => ({ ...condition })),
    };
  }

  /** Filter by a field's value as well (a line detail's field clicked); the same field
   * again replaces its condition. */
  addField(condition) {
    this.fields = [...this.fields.filter((each) => each.name !== condition.name), condition];
    this.renderFields();
    this.emit();
  }

  renderFields() {
    const box = $('field-filters');
    box.replaceChildren(
      ...this.fields.map((condition, index) => {
        const ops = isNumber(condition.value) ? Object.keys(COMPARISONS) : ['=', '!='];
        const select = h(
          'select',
          { class: 'field-op', 'aria-label': `Comparison of ${condition.name}` },
          ...ops.map((op) => h('option', { value: op, text: COMPARISONS[op], selected: op === condition.op })),
        );
        select.addEventListener('change', () => {
          this.fields = this.fields.map((each, i) => (i === index ? { ...each, op: select.value } : each));
          this.emit();
        });
        const remove = h('button', {
          type: 'button',
          class: 'field-remove',
          'aria-label': `Stop filtering by ${condition.name}`,
          text: '×',
          onclick: () => {
            this.fields = this.fields.filter((_, i) => i !== index);
            this.renderFields();
            this.emit();
          },
        });
        return h(
          'span',
          { class: 'field-chip', dataset: { field: condition.name } },
          h('code', { text: condition.name }),
          select,
          h('code', { class: 'field-chip-value', text: condition.value }),
          remove,
        );
      }),
    );
    show(box, this.fields.length > 0);
  }

  emit() {
    this.updateDownloads();
    const filter = this.filter();
    this.applied = filter.query;
    this.matchText = '';
    this.onFilter(filter);
  }

  step(delta) {
    const found = this.onMatch(delta);
    if (found) {
      this.matchText = `${(found.index + 1).toLocaleString('en')} of ${found.count.toLocaleString('en')}`;
      setText($('search-count'), this.matchText);
    }
  }

  /** Show everything again (e.g. to reveal a line the filter hides). */
  resetFilters() {
    for (const input of [...this.levelSet.elements, ...this.sourceSet.elements]) input.checked = true;
    $('hide-probes').checked = false;
    this.search.value = '';
    this.fields = [];
    this.renderFields();
    this.emit();
  }

  setTarget(gid, previewId) {
    this.target = previewId ? { gid, previewId } : null;
    this.updateDownloads();
  }

  updateDownloads() {
    const all = $('download-all');
    const filtered = $('download-filtered');
    const { levels, sources, query } = this.filter();
    // No level or no source ticked selects nothing, which the API cannot express (an
    // empty list means "no filter"): then there is nothing to download.
    const nothing = !levels.length || !sources.length;
    const links = [[all, Boolean(this.target)], [filtered, Boolean(this.target) && !nothing]];
    for (const [link, usable] of links) {
      link.setAttribute('aria-disabled', String(!usable));
      if (!usable) link.removeAttribute('href');
    }
    if (!this.target) return;
    const format = $('download-format').value;
    const { gid, previewId } = this.target;
    all.href = api.historyDownloadUrl(gid, previewId, { format });
    if (nothing) return;
    filtered.href = api.historyDownloadUrl(
      gid,
      previewId,
      {
        format,
        level: levels.length === LEVELS.length ? undefined : levels.join(','),
        source: sources.length === SOURCES.length ? undefined : sources.join(','),
        q: query || undefined,
      },
      this.fields.map(conditionParam),
    );
  }

  setConnection(state) {
    this.state = state;
    this.showConnection();
  }

  /** Whether the terminal follows new lines (false: paused, by the button or scrolling). */
  setPaused(paused) {
    this.paused = paused;
    const button = $('pause');
    button.setAttribute('aria-pressed', String(paused));
    setText(button, paused ? 'Resume' : 'Pause');
    this.showConnection();
  }

  showConnection() {
    const element = $('connection');
    element.dataset.state = this.state;
    const paused = this.paused && this.state === 'live';
    element.dataset.paused = String(paused);
    setText(element, paused ? 'paused' : STATE_TEXT[this.state] || this.state);
  }

  /** Counts after a render: total lines, lines shown, and search matches. */
  setCounts(model) {
    if (!model) {
      setText($('line-count'), '0 lines');
      setText($('search-count'), '');
      return;
    }
    const total = model.lastId;
    const inMemory = model.entries.length;
    let text = `${total.toLocaleString('en')} lines`;
    if (model.filtered) text = `${model.length.toLocaleString('en')} of ${text}`;
    if (inMemory < total) text += ` (${inMemory.toLocaleString('en')} in memory)`;
    setText($('line-count'), text);
    $('line-count').title = text;
    const matches = model.query ? model.matchPositions.length : 0;
    $('search-next').disabled = $('search-prev').disabled = !matches;
    let count = '';
    if (model.query) count = this.matchText || `${matches.toLocaleString('en')} ${matches === 1 ? 'match' : 'matches'}`;
    setText($('search-count'), count);
  }
}
