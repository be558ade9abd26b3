// The terminal: a virtualised view of a LogModel.
//
// Rows have one fixed height, so the view needs no measuring: a spacer as tall as all
// the lines gives the scrollbar its real size and only the rows on screen (plus a few)
// exist in the DOM, whatever the number of lines. Rendering happens at most once per
// animation frame, however many events arrived in between.
//
// Text is put in with Text nodes and textContent only; ANSI colours become classes
// (or CSSOM colours), search matches become <mark> elements.

import { parseAnsi, styleSpan } from './ansi.js';

const OVERSCAN = 10; // rows above and below the screen, so fast scrolling shows no gap
const NEAR_TOP_ROWS = 5;

const TAGS = { stdout: 'out', stderr: 'err' };
const tagOf = (entry) => (entry.source === 'app' ? TAGS[entry.stream] || 'app' : entry.source === 'system' ? 'sys' : entry.source);

function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso ?? '').slice(11, 23);
  const pad = (n, size = 2) => String(n).padStart(size, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** [start, end) of each match of `finder` (global, case-insensitive) in `text`. */
function matchRanges(text, finder) {
  const ranges = [];
  finder.lastIndex = 0;
  let match;
  while (ranges.length < 200 && (match = finder.exec(text)) !== null) {
    ranges.push([match.index, match.index + match[0].length]);
  }
  return ranges;
}

export class TerminalView {
  constructor({ viewport, spacer, rows, empty, jumpButton, onNearTop = () => {}, onRender = () => {} }) {
    Object.assign(this, { viewport, spacer, rows, empty, jumpButton, onNearTop, onRender });
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

    viewport.addEventListener('scroll', () => this.onScroll(), { passive: true });
    viewport.addEventListener('keydown', (event) => this.onKey(event));
    jumpButton.addEventListener('click', () => {
      this.jumpToLatest();
      viewport.focus();
    });
    // The number of rows on screen depends on the viewport's height.
    new ResizeObserver(() => this.scheduleRender()).observe(viewport);
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
    this.selectedId = null;
    this.emptyText = emptyText;
    this.rowCache.clear();
    this.render();
  }

  setEmptyText(text) {
    this.emptyText = text;
    this.scheduleRender();
  }

  /** `count` new lines that pass the filter were added at the end. */
  linesAdded(count) {
    if (!this.follow) this.newCount += count;
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
      this.spacer.style.height = `${this.model.length * this.rowHeight}px`;
      this.viewport.scrollTop += shown * this.rowHeight;
    }
    this.render();
    return added;
  }

  topVisibleId() {
    const entry = this.model?.at(Math.floor(this.viewport.scrollTop / this.rowHeight));
    return entry ? entry.id : null;
  }

  scrollToPosition(position) {
    this.spacer.style.height = `${this.model.length * this.rowHeight}px`;
    this.viewport.scrollTop = Math.max(0, position * this.rowHeight);
  }

  /** Scroll to one event and mark it; false if the current filter hides it. */
  revealId(id) {
    const position = this.model.positionOfId(id);
    if (position < 0) return false;
    this.setFollow(false);
    this.selectedId = id;
    this.rowCache.clear();
    this.spacer.style.height = `${this.model.length * this.rowHeight}px`;
    const target = position * this.rowHeight - this.viewport.clientHeight / 2 + this.rowHeight / 2;
    this.viewport.scrollTop = Math.max(0, target);
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
    this.follow = follow;
  }

  /** At the bottom (within half a row): new lines are followed; anywhere else: not. */
  atBottom() {
    const { scrollTop, clientHeight, scrollHeight } = this.viewport;
    return scrollTop + clientHeight >= scrollHeight - this.rowHeight / 2;
  }

  onScroll() {
    this.setFollow(this.atBottom());
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
    }
  }

  render() {
    const began = performance.now();
    const model = this.model;
    if (model) {
      const anchor = this.follow ? null : this.topVisibleId();
      if (model.trim(this.follow)) {
        this.rowCache.clear();
        if (anchor !== null) this.scrollToPosition(Math.max(0, model.positionAtOrAfterId(anchor)));
      }
    }
    const total = model ? model.length : 0;
    const rowHeight = this.rowHeight;
    this.spacer.style.height = `${total * rowHeight}px`;
    if (this.follow) this.viewport.scrollTop = this.viewport.scrollHeight;
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight;
    const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
    const last = Math.min(total, Math.ceil((top + height) / rowHeight) + OVERSCAN);

    const cache = new Map();
    const fragment = document.createDocumentFragment();
    for (let position = first; position < last; position++) {
      const entry = model.at(position);
      const row = this.rowCache.get(entry.id) || this.renderRow(entry);
      cache.set(entry.id, row);
      fragment.append(row);
    }
    this.rowCache = cache;
    this.rows.style.transform = `translateY(${first * rowHeight}px)`;
    this.rows.replaceChildren(fragment);

    const hiddenByFilter = !total && model?.entries.length > 0;
    const emptyText = hiddenByFilter ? 'No line matches the filter.' : this.emptyText;
    this.empty.textContent = total ? '' : emptyText;
    this.empty.hidden = total > 0 || !emptyText;
    this.jumpButton.hidden = this.follow;
    this.jumpButton.textContent = this.newCount ? `Jump to latest (${this.newCount} new)` : 'Jump to latest';
    this.lastRenderMs = performance.now() - began;
    this.onRender(model);
  }

  renderRow(entry) {
    const row = document.createElement('div');
    row.className = `row lvl-${entry.level} src-${entry.source}${entry.stream ? ` stream-${entry.stream}` : ''}`;
    if (entry.id === this.selectedId) row.classList.add('selected');
    row.dataset.id = String(entry.id);
    if (this.showTimestamps) {
      const time = document.createElement('span');
      time.className = 'ts';
      time.textContent = formatTime(entry.timestamp);
      row.append(time);
    }
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = tagOf(entry);
    row.append(tag);
    const message = document.createElement('span');
    message.className = 'msg';
    const ranges = this.finder ? matchRanges(entry.plain, this.finder) : [];
    appendSegments(message, parseAnsi(entry.message), ranges);
    row.append(message);
    return row;
  }
}

/** Append the ANSI segments, wrapping the parts inside `ranges` in <mark>. */
function appendSegments(parent, segments, ranges) {
  let offset = 0;
  let r = 0;
  for (const segment of segments) {
    const start = offset;
    const end = offset + segment.text.length;
    let position = start;
    while (position < end) {
      while (r < ranges.length && ranges[r][1] <= position) r++;
      const range = ranges[r];
      if (!range || range[0] >= end) {
        parent.append(piece(segment.text.slice(position - start), segment.style, false));
        break;
      }
      if (range[0] > position) {
        parent.append(piece(segment.text.slice(position - start, range[0] - start), segment.style, false));
        position = range[0];
      }
      const stop = Math.min(end, range[1]);
      parent.append(piece(segment.text.slice(position - start, stop - start), segment.style, true));
      position = stop;
    }
    offset = end;
  }
}

function piece(text, style, marked) {
  let node = document.createTextNode(text);
  if (style) {
    const span = document.createElement('span');
    styleSpan(span, style);
    span.append(node);
    node = span;
  }
  if (!marked) return node;
  const mark = document.createElement('mark');
  mark.append(node);
  return mark;
}
