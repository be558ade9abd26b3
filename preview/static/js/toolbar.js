// The terminal's toolbar: connection state, line counts, timestamps, level and source
// filters, search, and the download links (served by the history endpoint, so a
// download holds every stored line, not only those in this page's memory).

import * as api from './api.js';
import { $, setText } from './dom.js';
import { LEVELS, SOURCES } from './logmodel.js';

const SEARCH_DELAY_MS = 150; // one filter pass per pause in typing, not per key
const STATE_TEXT = { idle: 'idle', connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', ended: 'ended' };

const checked = (fieldset) => [...fieldset.querySelectorAll('input:checked')].map((input) => input.value);

export class Toolbar {
  constructor({ onFilter, onTimestamps }) {
    this.onFilter = onFilter;
    this.levelSet = $('level-filter');
    this.sourceSet = $('source-filter');
    this.search = $('log-search');
    this.target = null; // {gid, previewId} whose log the downloads fetch
    this.timer = null;
    const changed = () => this.emit();
    this.levelSet.addEventListener('change', changed);
    this.sourceSet.addEventListener('change', changed);
    this.search.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(changed, SEARCH_DELAY_MS);
    });
    this.search.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        clearTimeout(this.timer);
        changed();
      }
    });
    $('show-timestamps').addEventListener('change', (event) => onTimestamps(event.target.checked));
    $('download-format').addEventListener('change', () => this.updateDownloads());
    this.updateDownloads();
  }

  filter() {
    return { levels: checked(this.levelSet), sources: checked(this.sourceSet), query: this.search.value.trim() };
  }

  emit() {
    this.updateDownloads();
    this.onFilter(this.filter());
  }

  /** Show everything again (e.g. to reveal a line the filter hides). */
  resetFilters() {
    for (const input of [...this.levelSet.elements, ...this.sourceSet.elements]) input.checked = true;
    this.search.value = '';
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
    filtered.href = api.historyDownloadUrl(gid, previewId, {
      format,
      level: levels.length === LEVELS.length ? undefined : levels.join(','),
      source: sources.length === SOURCES.length ? undefined : sources.join(','),
      q: query || undefined,
    });
  }

  setConnection(state) {
    const element = $('connection');
    element.dataset.state = state;
    setText(element, STATE_TEXT[state] || state);
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
    setText($('search-count'), model.query ? `${model.length.toLocaleString('en')} matching` : '');
  }
}
