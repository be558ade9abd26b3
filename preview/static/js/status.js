// The preview's state as the user sees it: the status badge with uptime, health,
// memory and CPU; the start-up phases while it starts; the failure pinned above the
// terminal with the lines that explain it.

import { $, formatDuration, h, setText, show } from './dom.js';

export const LIVE = new Set(['starting', 'running', 'stopping']);

export class StatusPanel {
  constructor() {
    this.badge = $('status-badge');
    this.phaseList = $('phase-list');
    this.collectingPhases = false;
  }

  reset() {
    this.setStatus(null);
    this.metrics({});
    this.phaseList.replaceChildren();
    show($('phases'), false);
    this.clearFailure();
  }

  /** The badge: starting, running, stopping, stopped, failed (or not launched). */
  setStatus(status) {
    this.badge.dataset.status = status || 'none';
    setText(this.badge, status || 'not launched');
    if (status === 'starting') this.collectingPhases = true;
    if (status && status !== 'starting') this.collectingPhases = false;
  }

  /** Metrics from GET …/preview/status (missing ones shown as –). */
  metrics(data) {
    const live = LIVE.has(data.status);
    setText($('metric-uptime'), formatDuration(data.uptime));
    setText($('metric-health'), live || data.healthStatus ? data.healthStatus || '–' : '–');
    setText($('metric-memory'), Number.isFinite(data.memoryMb) ? `${data.memoryMb.toFixed(1)} MiB` : '–');
    setText($('metric-cpu'), Number.isFinite(data.cpuPercent) ? `${data.cpuPercent.toFixed(1)} %` : '–');
    $('metric-health').dataset.health = data.healthStatus || '';
  }

  /** Start with a fresh phase list (a launch, or the replay of a preview's log). */
  beginPhases() {
    this.phaseList.replaceChildren();
    this.collectingPhases = true;
  }

  /** A `system` event: a start-up phase while the preview starts. */
  systemEvent(event) {
    if (!this.collectingPhases) return;
    this.phaseList.append(h('li', { class: `phase lvl-${event.level}`, text: event.message }));
    show($('phases'), true);
    if (event.status && event.status !== 'starting') this.collectingPhases = false;
  }

  showFailure(message, lines) {
    setText($('failure-message'), message || 'see the terminal');
    const pre = $('failure-lines');
    setText(pre, (lines || []).join('\n'));
    show(pre, Boolean(lines && lines.length));
    show($('failure'), true);
  }

  clearFailure() {
    show($('failure'), false);
    setText($('failure-message'), '');
    setText($('failure-lines'), '');
  }
}
