// The terminal's data: every received event of one preview, in id order, in memory.
//
// Kept as plain arrays so that 100,000+ lines stay cheap: the DOM only ever holds the
// rows on screen (terminal.js), and filtering is one pass over this array. Ids are the
// preview's sequence numbers (also the SSE ids), so a duplicate after a reconnect is
// simply an id not greater than the last one seen.

import { plainText } from './ansi.js';
import { holds, lineFields } from './fields.js';

export const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'];
export const SOURCES = ['app', 'build', 'setup', 'system', 'proxy'];
export const DEFAULT_CAP = 200_000;
const RESTART = /^starting again\b/;

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class LogModel {
  constructor({ cap = DEFAULT_CAP } = {}) {
    this.cap = cap;
    this.entries = [];
    this.lastId = 0;
    this.duplicates = 0;
    this.levels = new Set(LEVELS);
    this.sources = new Set(SOURCES);
    // The service's own health checks are hidden unless asked for (the toolbar's box is
    // ticked by default): every ten seconds a line of the app's access log otherwise.
    this.hideProbes = true;
    this.probe = null;
    this.probes = 0; // entries that are health checks: while none, nothing is hidden
    this.query = '';
    this.context = 0; // lines shown around each match: 0, a number, or Infinity (all)
    this.matcher = null;
    this.fields = []; // conditions on a JSON or logfmt line's fields ({name, op, value}), all to hold
    this.view = null; // indexes into entries when a filter is on; null = everything
    this.matchPositions = []; // positions in the view of the lines matching the query
    this.version = 0; // bumped whenever positions change other than by appending
    this.recentBase = []; // the last `context` indexes passing the level/source filter
    this.trailing = 0; // lines of context still due after the last match
    // The service's latest "starting again" (a relaunch after a failed attempt, with a
    // fix or without the fixes that did not help): the lines before it are that
    // attempt's, superseded. 0: none.
    this.restartId = 0;
  }

  /** A line of an earlier, failed attempt: what it printed and how the service said it
   * ended, not the fix the service said it made ("fix 1: …", a WARN of its own). */
  isSuperseded(entry) {
    return entry.id < this.restartId && !entry.restart && !(entry.source === 'system' && entry.level === 'WARN');
  }

  get firstId() {
    return this.entries.length ? this.entries[0].id : this.lastId + 1;
  }

  /** Whether lines before the first one in memory exist (trimmed, or never loaded). */
  get hasOlder() {
    return this.firstId > 1;
  }

  get filtered() {
    return this.view !== null;
  }

  /**
   * The app's health path: its access-log lines for that path are the service's own
   * probes (marked, so "hide health checks" can hide them). Null: a TCP check, no lines.
   */
  setProbePath(path) {
    // Any prefix: an app under a root path logs /api/generations/…/proxy/health.
    this.probe = path ? new RegExp(`\\b(?:GET|HEAD) \\S*${escapeRegExp(path)}(?=[\\s?"]|$)`) : null;
  }

  entryOf(event) {
    const entry = toEntry(event);
    // The service's "starting again, with the fix above" (or "…, as it ran before"),
    // said as the preview goes back to starting after a failed attempt.
    entry.restart = entry.source === 'system' && entry.status === 'starting' && RESTART.test(entry.plain);
    if (this.probe && entry.source === 'app' && this.probe.test(entry.plain)) entry.probe = true;
    return entry;
  }

  /** Add one live event; false if it was already here (a replay after a reconnect). */
  add(event) {
    const id = Number(event.id);
    if (!(id > this.lastId)) {
      this.duplicates += 1;
      return false;
    }
    const entry = this.entryOf(event);
    this.lastId = id;
    this.entries.push(entry);
    if (entry.restart) this.restartId = id;
    if (entry.probe) {
      this.probes += 1;
      // The first one to hide: from now on the view lists what is shown.
      if (this.hideProbes && this.view === null) {
        this.refilter();
        return true;
      }
    }
    if (this.view !== null || this.matcher) this.place(this.entries.length - 1);
    return true;
  }

  /** Put a new last entry into the view (and the matches), with its context. */
  place(index) {
    const entry = this.entries[index];
    if (!this.passesBase(entry)) return;
    const hit = this.matcher !== null && this.matcher.test(entry.plain);
    if (this.view === null) {
      // Everything is shown (all lines as context): only the matches are tracked.
      if (hit) this.matchPositions.push(index);
      return;
    }
    if (this.matcher === null || this.context === Infinity) {
      if (hit) this.matchPositions.push(this.view.length);
      this.view.push(index);
      return;
    }
    const context = this.context;
    if (hit) {
      for (const before of this.recentBase) {
        if (!this.view.length || this.view[this.view.length - 1] < before) this.view.push(before);
      }
      this.matchPositions.push(this.view.length);
      this.view.push(index);
      this.trailing = context;
    } else if (this.trailing > 0) {
      this.trailing -= 1;
      this.view.push(index);
    }
    if (context > 0 && Number.isFinite(context)) {
      this.recentBase.push(index);
      if (this.recentBase.length > context) this.recentBase.shift();
    }
  }

  /**
   * Drop the oldest lines beyond the cap; true if any went. Called only while the user
   * follows the end (dropping what they are reading would move it), and always when
   * twice the cap is reached, so memory stays bounded either way.
   */
  trim(following) {
    const excess = this.entries.length - this.cap;
    // Trim in steps of a tenth of the cap: one splice per many lines, not per line.
    if (excess <= 0 || (excess < this.cap / 10 && following) || (!following && excess < this.cap)) {
      return false;
    }
    for (let i = 0; i < excess; i++) if (this.entries[i].probe) this.probes -= 1;
    this.entries.splice(0, excess);
    this.refilter();
    return true;
  }

  /** Put older events (from the history endpoint) in front; returns how many were new. */
  prepend(events) {
    const first = this.firstId;
    const older = events.filter((event) => Number(event.id) < first).map((event) => this.entryOf(event));
    if (!older.length) return 0;
    for (const entry of older) {
      if (entry.probe) this.probes += 1;
      if (entry.restart && entry.id > this.restartId) this.restartId = entry.id;
    }
    this.entries = older.concat(this.entries);
    if (this.lastId === 0) this.lastId = older[older.length - 1].id;
    this.refilter();
    return older.length;
  }

  setFilter({ levels = this.levels, sources = this.sources, query = this.query, context = this.context, hideProbes = this.hideProbes, fields = this.fields } = {}) {
    this.fields = fields;
    this.levels = new Set(levels);
    this.sources = new Set(sources);
    this.query = query;
    this.context = context;
    this.hideProbes = hideProbes;
    this.matcher = query ? new RegExp(escapeRegExp(query), 'i') : null;
    this.refilter();
  }

  passesBase(entry) {
    return (
      this.levels.has(entry.level) &&
      this.sources.has(entry.source) &&
      !(this.hideProbes && entry.probe) &&
      (this.fields.length === 0 || this.fieldsHold(entry))
    );
  }

  /** Whether the line's fields meet every field condition (parsed once a line). */
  fieldsHold(entry) {
    if (entry.fields === undefined) entry.fields = lineFields(entry.plain);
    return entry.fields !== null && this.fields.every((condition) => holds(condition, entry.fields));
  }

  /** Whether a line is shown by the level and source filters and is a search match. */
  matches(entry) {
    return this.passesBase(entry) && (this.matcher === null || this.matcher.test(entry.plain));
  }

  refilter() {
    this.version += 1;
    this.matchPositions = [];
    this.recentBase = [];
    this.trailing = 0;
    const everyLine =
      this.levels.size === LEVELS.length &&
      this.sources.size === SOURCES.length &&
      !(this.hideProbes && this.probes) &&
      this.fields.length === 0;
    const entries = this.entries;
    if (everyLine && (!this.matcher || this.context === Infinity)) {
      this.view = null;
      if (this.matcher) for (let i = 0; i < entries.length; i++) if (this.matcher.test(entries[i].plain)) this.matchPositions.push(i);
      return;
    }
    this.view = [];
    for (let i = 0; i < entries.length; i++) this.place(i);
  }

  get length() {
    return this.view === null ? this.entries.length : this.view.length;
  }

  at(position) {
    return this.view === null ? this.entries[position] : this.entries[this.view[position]];
  }

  /** Index in `entries` of the event with this id, or -1 (ids are sorted). */
  indexOfId(id) {
    let low = 0;
    let high = this.entries.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const value = this.entries[mid].id;
      if (value === id) return mid;
      if (value < id) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  /** Position in the current view of the event with this id, or -1 if filtered out. */
  positionOfId(id) {
    const index = this.indexOfId(id);
    if (index < 0 || this.view === null) return index;
    let low = 0;
    let high = this.view.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (this.view[mid] === index) return mid;
      if (this.view[mid] < index) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  /** First position in the current view whose id is at least `id` (clamped). */
  positionAtOrAfterId(id) {
    let low = 0;
    let high = this.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.at(mid).id < id) low = mid + 1;
      else high = mid;
    }
    return Math.min(low, Math.max(0, this.length - 1));
  }

  /** The last `proxy` event of this request (its message ends with `[<requestId>]`). */
  findRequest(requestId) {
    const suffix = `[${requestId}]`;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i];
      if (entry.source === 'proxy' && entry.message.endsWith(suffix)) return entry;
    }
    return null;
  }
}

function toEntry(event) {
  const message = String(event.message ?? '');
  return {
    id: Number(event.id),
    timestamp: event.timestamp,
    level: LEVELS.includes(event.level) ? event.level : 'INFO',
    source: SOURCES.includes(event.source) ? event.source : 'app',
    stream: event.stream || null,
    status: event.status || null,
    process: event.process || null, // a worker's lines: its name (the web process's: none)
    probe: Boolean(event.probe),
    message,
    plain: plainText(message),
    fields: undefined, // its fields (fields.js), parsed when a field condition first asks
  };
}
