// The terminal: a virtualised view of a LogModel.
//
// Rows have one fixed height, so the view needs no measuring: a spacer as tall as all
// the lines gives the scrollbar its real size and only the rows on screen (plus a few)
// exist in the DOM, whatever the number of lines. Rendering happens at most once per
// animation frame, however many events arrived in between.
//
// With wrapping on, a line takes as many rows as its characters need at the terminal's
// width (the font is monospaced, so that is arithmetic, not measuring): the row offsets
// are a prefix sum over the view, extended as lines arrive and redone when the filter,
// the width or the trimmed start changes.
//
// Text is put in with Text nodes and textContent only; ANSI colours become classes
// (or CSSOM colours), search matches become <mark> elements.
//
// Following the end stops only when the user moves the view up (the wheel, the keys,
// the scrollbar, or a script acting for them): the terminal itself only ever moves it
// down, and a change of the viewport's size (a panel above, a horizontal scrollbar
// under long lines) moves it by no more than that change. In a flood, each frame draws
// the last screenful and counts the lines that went by undrawn (all kept in the model).

import { escapeRegExp, measureCols, renderRow } from './rowrender.js';

const OVERSCAN = 10; // rows above and below the screen, so fast scrolling shows no gap
const NEAR_TOP_ROWS = 5;
const SKIPPED_SHOWN_MS = 3000; // the count of undrawn lines stays this long after the last

function findLastIndex(array, test) {
  for (let i = array.length - 1; i >= 0; i--) if (test(array[i])) return i;
  return -1;
}

export class TerminalView {
  constructor({ viewport, spacer, rows, empty, jumpButton, skippedNote = document.getElementById('terminal-skipped'), onNearTop = () => {}, onRender = () => {}, onLine = () => {}, onFollow = () => {} }) {
    Object.assign(this, { viewport, spacer, rows, empty, jumpButton, skippedNote, onNearTop, onRender, onLine, onFollow });
    this.wrap = false;
    this.layout = null; // wrap mode: {model, version, cols, offsets} (offsets in rows)
    this.cols = 0;
    this.currentMatch = -1; // index into model.matchPositions of the match in focus
    this.currentMatchId = null;
    this.model = null;
    this.follow = true;
    this.newCount = 0;
    this.showTimestamps = true;
    this.selectedId = null;
    this.finder = null;
    this.emptyText = '';
    this.pending = false;
    this.rowCache = new Map(); // id -> row element of the last render (reused while valid)
    this.rowHeight = this.measureRowHeight();
    this.lastFilterMs = null;
    this.lastRenderMs = null;
    this.seenHeight = viewport.clientHeight; // a change of it is a layout shift, not a scroll
    this.lastTop = viewport.scrollTop; // where the view was last put or seen
    this.ended = false; // the log is over: nothing new will come
    this.arrived = 0; // lines added since the last frame, while following
    this.skipped = 0; // lines that went by undrawn while following (a flood)
    this.lastSkipAt = 0;
    this.skipTimer = null;
    this.drawnRestartId = 0; // the model's latest relaunch, as the cached rows show it

    viewport.addEventListener('scroll', () => this.onScroll(), { passive: true });
    viewport.addEventListener('keydown', (event) => this.onKey(event));
    jumpButton.addEventListener('click', () => {
      this.jumpToLatest();
      viewport.focus();
    });
    // A click on a line opens its detail (not when the click ended a text selection).
    rows.addEventListener('click', (event) => {
      const row = event.target.closest('.row');
      if (!row || String(window.getSelection?.() || '')) return;
      this.openLine(Number(row.dataset.id));
    });
    // The number of rows on screen depends on the viewport's height (and, wrapped, width).
    // (seenHeight is left to the next scroll or render: a scroll event the same change
    // caused may still come, and must see the change.)
    new ResizeObserver(() => {
      this.cols = 0;
      this.scheduleRender();
    }).observe(viewport);
  }

  openLine(id) {
    const index = this.model?.indexOfId(id) ?? -1;
    if (index < 0) return;
    this.selectedId = id;
    this.rowCache.clear();
    this.scheduleRender();
    this.onLine(this.model.entries[index]);
  }

  /** Long lines wrapped onto several rows, or kept on one (cut at the edge). */
  setWrap(wrap) {
    const anchor = this.follow ? null : this.topVisibleId();
    this.wrap = wrap;
    this.viewport.classList.toggle('wrap', wrap);
    this.layout = null;
    this.cols = 0;
    this.rowCache.clear();
    if (anchor !== null && this.model) this.scrollToPosition(this.model.positionAtOrAfterId(anchor));
    this.render();
  }

  /** Characters per row of a wrapped message at the current width. */
  measureCols() {
    return measureCols(this.rows, this.showTimestamps);
  }

  /** Row offsets of the view's lines (wrap mode), brought up to date. */
  offsets() {
    const model = this.model;
    if (!this.cols) this.cols = this.measureCols();
    let layout = this.layout;
    if (!layout || layout.model !== model || layout.version !== model.version || layout.cols !== this.cols || layout.offsets.length > model.length + 1) {
      layout = { model, version: model.version, cols: this.cols, offsets: [0] };
      this.layout = layout;
    }
    const { offsets, cols } = layout;
    for (let position = offsets.length - 1; position < model.length; position++) {
      offsets.push(offsets[position] + Math.max(1, Math.ceil(model.at(position).plain.length / cols)));
    }
    return offsets;
  }

  /** First row (in row units) of the line at `position`. */
  rowOf(position) {
    return this.wrap && this.model ? this.offsets()[position] : position;
  }

  /** Position of the line covering row `row`. */
  positionAtRow(row) {
    if (!this.wrap || !this.model) return Math.floor(row);
    const offsets = this.offsets();
    let low = 0;
    let high = offsets.length - 2;
    if (high < 0) return 0;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (offsets[mid] <= row) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  totalRows() {
    if (!this.model) return 0;
    return this.wrap ? this.offsets()[this.model.length] : this.model.length;
  }

  /** Scroll to the next (+1) or previous (-1) search match; {index, count} or null. */
  gotoMatch(delta) {
    const model = this.model;
    const matches = model?.matchPositions || [];
    if (!matches.length) return null;
    let index = this.currentMatchId === null ? -1 : this.matchIndexOfId(this.currentMatchId);
    if (index < 0) {
      // From where the user is looking: the first match below (or above) the top line.
      const top = this.positionAtRow(this.viewport.scrollTop / this.rowHeight);
      index = delta > 0 ? matches.findIndex((p) => p >= top) : findLastIndex(matches, (p) => p < top);
      if (index < 0) index = delta > 0 ? 0 : matches.length - 1;
    } else {
      index = (index + delta + matches.length) % matches.length;
    }
    const position = matches[index];
    this.currentMatch = index;
    this.currentMatchId = model.at(position).id;
    this.setFollow(false);
    this.rowCache.clear();
    this.centre(position);
    this.render();
    return { index, count: matches.length };
  }

  matchIndexOfId(id) {
    const matches = this.model.matchPositions;
    for (let i = 0; i < matches.length; i++) if (this.model.at(matches[i]).id === id) return i;
    return -1;
  }

  centre(position) {
    this.spacer.style.height = `${this.totalRows() * this.rowHeight}px`;
    const target = this.rowOf(position) * this.rowHeight - this.viewport.clientHeight / 2 + this.rowHeight / 2;
    this.viewport.scrollTop = Math.max(0, target);
  }

  measureRowHeight() {
    const probe = document.createElement('div');
    probe.className = 'row';
    probe.textContent = 'M';
    this.rows.append(probe);
    const height = probe.getBoundingClientRect().height;
    probe.remove();
    return height > 0 ? height : 18;
  }

  /** Show another model (a new preview): back to following its end. */
  setModel(model, emptyText = '') {
    this.model = model;
    this.follow = true;
    this.newCount = 0;
    this.ended = false;
    this.arrived = 0;
    this.skipped = 0;
    this.selectedId = null;
    this.emptyText = emptyText;
    this.rowCache.clear();
    this.render();
  }

  setEmptyText(text) {
    this.emptyText = text;
    this.scheduleRender();
  }

  /** `count` new lines that pass the filter were added at the end; `live`: they were
   * printed just now, not the history a page that opens (or reconnects) catches up on,
   * which the view jumps past without calling it "skipped". */
  linesAdded(count, live = true) {
    if (!this.follow) this.newCount += count;
    else if (live) this.arrived += count;
    this.scheduleRender();
  }

  /** The log is over (its stream ended): no pause, no "Resume" with nothing to come. */
  setEnded(ended) {
    this.ended = ended;
    this.scheduleRender();
  }

  scheduleRender() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  setTimestamps(visible) {
    this.showTimestamps = visible;
    this.cols = 0;
    this.rowCache.clear();
    this.render();
  }

  /** Apply a filter to the model and redraw at once; the elapsed time is kept for tests. */
  applyFilter(filter) {
    const began = performance.now();
    const anchor = this.follow ? null : this.topVisibleId();
    this.model.setFilter(filter);
    const query = this.model.query;
    this.finder = query ? new RegExp(escapeRegExp(query), 'gi') : null;
    this.currentMatch = -1;
    this.currentMatchId = null;
    this.rowCache.clear();
    if (anchor !== null) this.scrollToPosition(this.model.positionAtOrAfterId(anchor));
    this.render();
    this.lastFilterMs = performance.now() - began;
    return this.lastFilterMs;
  }

  /** Put older lines (from the history) in front, keeping what is on screen in place. */
  prependOlder(events) {
    const before = this.model.length;
    const added = this.model.prepend(events);
    const shown = this.model.length - before;
    if (shown > 0) {
      const rows = this.rowOf(shown);
      this.spacer.style.height = `${this.totalRows() * this.rowHeight}px`;
      this.viewport.scrollTop += rows * this.rowHeight;
    }
    this.render();
    return added;
  }

  topVisibleId() {
    const entry = this.model?.at(this.positionAtRow(this.viewport.scrollTop / this.rowHeight));
    return entry ? entry.id : null;
  }

  scrollToPosition(position) {
    this.spacer.style.height = `${this.totalRows() * this.rowHeight}px`;
    this.viewport.scrollTop = Math.max(0, this.rowOf(position) * this.rowHeight);
  }

  /** Scroll to one event and mark it; false if the current filter hides it. */
  revealId(id) {
    const position = this.model.positionOfId(id);
    if (position < 0) return false;
    this.setFollow(false);
    this.selectedId = id;
    this.rowCache.clear();
    this.centre(position);
    // A line on the last screen: keep following (no scroll event comes if nothing moved).
    this.setFollow(this.atBottom());
    this.render();
    return true;
  }

  jumpToLatest() {
    this.setFollow(true);
    this.render();
  }

  setFollow(follow) {
    if (follow) this.newCount = 0;
    this.arrived = 0;
    if (!follow) this.skipped = 0; // scrolling through them now
    const changed = follow !== this.follow;
    this.follow = follow;
    if (changed) this.onFollow(follow);
  }

  /** The pause control: stop following the end where the view is, or follow again. */
  setPaused(paused) {
    if (paused) this.setFollow(false);
    else this.jumpToLatest();
    this.onFollow(this.follow); // said again, whatever the toolbar thought: idempotent
  }

  /**
   * At the bottom: within half a row of it, plus what a horizontal scrollbar (and the
   * borders) take of the viewport's height, whatever the browser counts in clientHeight.
   */
  atBottom() {
    const { scrollTop, clientHeight, offsetHeight, scrollHeight } = this.viewport;
    const bar = Math.max(0, offsetHeight - clientHeight);
    return scrollHeight - scrollTop - clientHeight <= this.rowHeight / 2 + bar;
  }

  /**
   * The view went up since the terminal last put it (or saw it) somewhere, by more than
   * a change of the viewport's height explains, and off the end: the user's own scroll.
   * New lines only ever move the end down; a panel or banner appearing above (a
   * failure, a refusal) or a horizontal scrollbar under long lines changes the height,
   * not the scroll; fewer rows (a filter, a trim) pull the view up, but to the end.
   */
  movedUpByUser() {
    const { clientHeight, scrollTop } = this.viewport;
    const shift = Math.abs(clientHeight - this.seenHeight);
    const up = this.lastTop - scrollTop;
    return up > 1 && up > (shift ? shift + this.rowHeight : 0) && !this.atBottom();
  }

  onScroll() {
    if (this.follow) {
      if (this.movedUpByUser()) this.setFollow(false);
    } else if (this.atBottom()) this.setFollow(true); // scrolled back to the end
    this.lastTop = this.viewport.scrollTop;
    this.seenHeight = this.viewport.clientHeight;
    if (this.viewport.scrollTop < NEAR_TOP_ROWS * this.rowHeight && this.model?.hasOlder) {
      this.onNearTop();
    }
    this.scheduleRender();
  }

  onKey(event) {
    if (event.key === 'End' && !event.shiftKey) {
      event.preventDefault();
      this.jumpToLatest();
    } else if (event.key === 'Home' && !event.shiftKey) {
      event.preventDefault();
      this.setFollow(false);
      this.viewport.scrollTop = 0;
    } else if (event.key === 'Enter' && this.selectedId !== null) {
      event.preventDefault();
      this.openLine(this.selectedId);
    }
  }

  render() {
    const began = performance.now();
    const model = this.model;
    // A scroll up not yet reported (its event comes at the next frame) is the user's.
    if (this.follow && this.movedUpByUser()) this.setFollow(false);
    if (model && model.restartId !== this.drawnRestartId) {
      this.drawnRestartId = model.restartId; // the rows before it look superseded now
      this.rowCache.clear();
    }
    if (model) {
      const anchor = this.follow ? null : this.topVisibleId();
      if (model.trim(this.follow)) {
        this.rowCache.clear();
        if (anchor !== null) this.scrollToPosition(Math.max(0, model.positionAtOrAfterId(anchor)));
      }
    }
    const total = model ? model.length : 0;
    const rowHeight = this.rowHeight;
    this.spacer.style.height = `${this.totalRows() * rowHeight}px`;
    if (this.follow) this.viewport.scrollTop = this.viewport.scrollHeight;
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight;
    const first = Math.max(0, this.positionAtRow(top / rowHeight) - OVERSCAN);
    const last = Math.min(total, this.positionAtRow((top + height) / rowHeight) + 1 + OVERSCAN);

    const cache = new Map();
    const wanted = [];
    for (let position = first; position < last; position++) {
      const entry = model.at(position);
      const row = this.rowCache.get(entry.id) || this.renderRow(entry);
      cache.set(entry.id, row);
      wanted.push(row);
    }
    this.rowCache = cache;
    this.rows.style.transform = `translateY(${(total ? this.rowOf(first) : 0) * rowHeight}px)`;
    // The same rows as on screen already: leave the DOM alone (a row being clicked or
    // selected stays the node under the pointer).
    const current = this.rows.children;
    if (current.length !== wanted.length || wanted.some((row, i) => current[i] !== row)) {
      this.rows.replaceChildren(...wanted);
    }
    // Where the view was put, read before the rows changed (no second layout a frame).
    // Rows that bring a horizontal scrollbar (long lines) change the height, not the
    // scroll: the resize observer's next frame goes back to the end.
    this.lastTop = top;
    this.seenHeight = height;
    this.countSkipped(Math.ceil(height / rowHeight));

    const hiddenByFilter = !total && model?.entries.length > 0;
    const emptyText = hiddenByFilter ? 'No line matches the filter.' : this.emptyText;
    this.empty.textContent = total ? '' : emptyText;
    this.empty.hidden = total > 0 || !emptyText;
    // An ended log with nothing new: nothing to resume, nothing to jump to but the end.
    this.jumpButton.hidden = this.follow || (this.ended && !this.newCount);
    this.jumpButton.textContent = this.newCount ? `Jump to latest (${this.newCount} new)` : 'Jump to latest';
    this.lastRenderMs = performance.now() - began;
    this.onRender(model);
  }

  /** Lines that came since the last frame beyond a screenful went by undrawn: say so. */
  countSkipped(screenRows) {
    const now = performance.now();
    if (this.follow && this.arrived > screenRows) {
      this.skipped += this.arrived - screenRows;
      this.lastSkipAt = now;
      clearTimeout(this.skipTimer); // to hide it once the flood is over
      this.skipTimer = setTimeout(() => this.scheduleRender(), SKIPPED_SHOWN_MS + 50);
    }
    this.arrived = 0;
    if (!this.follow || now - this.lastSkipAt > SKIPPED_SHOWN_MS) this.skipped = 0;
    const note = this.skippedNote;
    if (!note || (note.hidden && !this.skipped) || this.skippedShown === this.skipped) return;
    this.skippedShown = this.skipped;
    note.hidden = !this.skipped;
    if (this.skipped) {
      note.textContent = `… ${this.skipped.toLocaleString('en')} lines skipped (too fast to draw) — all are kept: scroll up to read them, or Download all`;
    }
  }

  renderRow(entry) {
    return renderRow(entry, {
      superseded: this.model.isSuperseded(entry),
      restart: entry.restart,
      showTimestamps: this.showTimestamps,
      finder: this.finder,
      selected: entry.id === this.selectedId,
      current: entry.id === this.currentMatchId,
      wrapRows: this.wrap ? Math.max(1, Math.ceil(entry.plain.length / this.cols)) : 1,
      rowHeight: this.rowHeight,
    });
  }
}
