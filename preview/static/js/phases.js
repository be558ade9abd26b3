// The start-up timeline, like JupyterHub's spawn page: one step per phase the service
// narrates while a preview starts (`system` events, `build` events grouped into one
// "building dependencies" step whose text is the build's latest line, the set-up steps'
// `setup` events and the service's "setup: …" lines into one "setup" step), each with its
// duration; the step in progress counts up live ("waiting for HTTP · 3 s of 30 s" once
// the process is started). It stays after the start as a collapsed summary.

import { $, h, setText, show } from './dom.js';

const TICK_MS = 500;
const PROCESS_STARTED = /^process started\b/i;
const SETUP_STEP = /^setup: /;
const GROUPS = { build: 'building dependencies', setup: 'setup' };

// The step an event belongs to (null: a step of its own).
const grouped = (source) => Object.hasOwn(GROUPS, source);
const groupOf = (event) => (grouped(event.source) ? GROUPS[event.source] : SETUP_STEP.test(event.message) ? 'setup' : event.phase || null);

export function formatMs(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

const time = (event) => {
  const t = Date.parse(event.timestamp);
  return Number.isNaN(t) ? Date.now() : t;
};

export class PhaseTimeline {
  constructor() {
    this.section = $('phases');
    this.list = $('phase-list');
    this.summary = $('phases-summary');
    this.startupTimeout = null; // seconds, from the preview config
    this.reset();
  }

  reset() {
    clearInterval(this.timer);
    this.timer = null;
    this.steps = [];
    this.collecting = false;
    this.outcome = null;
    this.list.replaceChildren();
    show(this.section, false);
  }

  /**
   * A launch, or the replay of a preview's log from its start. The card is shown at
   * once, folded where the preview already runs: a replay that opened it and folded it
   * again at its "running" event moved everything below it under the user's pointer.
   */
  begin({ folded = false } = {}) {
    this.reset();
    this.collecting = true;
    this.section.open = !folded;
    setText(this.summary, 'Starting…');
    show(this.section, true);
  }

  /** A `system` or `build` event; only those of the start-up count. */
  event(event) {
    // The start-up ended (its first attempt's process exited: "stopping") and starts
    // again in the same preview (a relaunch with a fix): the timeline goes on, its steps
    // kept, until it runs or ends for good.
    if (!this.collecting && event.status === 'starting' && this.outcome) this.resume();
    if (!this.collecting) {
      if (event.status) this.settle(event.status);
      return;
    }
    if (!(event.source === 'system' || grouped(event.source))) return;
    const at = time(event);
    const last = this.steps[this.steps.length - 1];
    const group = groupOf(event);
    if (group && last && last.group === group) {
      last.detail = event.message; // the build's progress: its latest line
      last.level = event.level === 'INFO' ? last.level : event.level;
    } else if (group) {
      this.steps.push({ label: group, group, detail: event.message, level: event.level, start: at });
    } else {
      this.steps.push({ label: event.message, group: null, detail: '', level: event.level, start: at });
    }
    if (event.status && event.status !== 'starting') this.finish(event.status, at);
    else if (!this.timer) this.timer = setInterval(() => this.render(), TICK_MS);
    show(this.section, true);
    this.render();
  }

  finish(status, at) {
    this.collecting = false;
    clearInterval(this.timer);
    this.timer = null;
    this.outcome = { status, at };
    this.summarise();
  }

  /**
   * The preview's final status, once known: a start-up that ended "stopping" (its
   * process exited, or the user stopped it) reads "Failed after …" or "Stopped after …".
   */
  settle(status) {
    // Never an ended start-up's words ("Stopped after …") over a preview that is
    // starting or running again (a status answer can come before the stream's events).
    if ((status === 'starting' || status === 'running') && this.outcome && this.outcome.status !== 'running') {
      this.resume();
      return;
    }
    if (this.outcome?.status !== 'stopping' || (status !== 'failed' && status !== 'stopped')) return;
    this.outcome.status = status;
    this.summarise();
  }

  /** Collecting again after an outcome that did not last (see event and settle). */
  resume() {
    this.collecting = true;
    this.outcome = null;
    this.section.open = true;
    if (!this.timer) this.timer = setInterval(() => this.render(), TICK_MS);
    this.render();
  }

  summarise() {
    const { status, at } = this.outcome;
    const began = this.steps.length ? this.steps[0].start : at;
    const total = formatMs(at - began);
    const summary = status === 'running' ? `Started in ${total}` : status === 'failed' ? `Failed after ${total}` : `Stopped after ${total}`;
    setText(this.summary, `${summary} · ${this.steps.length} steps`);
    // Kept as a timeline, folded once the preview runs; open when it explains a failure.
    this.section.open = status === 'failed';
  }

  render() {
    const now = Date.now();
    const items = this.steps.map((step, i) => {
      const next = this.steps[i + 1];
      const finished = next || this.outcome;
      let duration;
      let detail = step.detail;
      if (next) duration = formatMs(next.start - step.start);
      else if (this.outcome) duration = '';
      else {
        const elapsed = now - step.start;
        duration = formatMs(elapsed);
        if (PROCESS_STARTED.test(step.label)) {
          detail = `waiting for HTTP · ${Math.floor(elapsed / 1000)} s${this.startupTimeout ? ` of ${this.startupTimeout} s` : ''}`;
        }
      }
      return h(
        'li',
        { class: `phase lvl-${step.level}${finished ? ' done' : ' current'}` },
        h('span', { class: 'phase-label', text: step.label }),
        detail ? h('span', { class: 'phase-detail', text: detail }) : null,
        duration ? h('span', { class: 'phase-duration', text: duration }) : null,
      );
    });
    this.list.replaceChildren(...items);
    if (this.collecting) setText(this.summary, `Starting… ${formatMs(now - (this.steps[0]?.start ?? now))}`);
  }
}
