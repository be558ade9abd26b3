// The preview's state as the user sees it: the status badge with uptime, health,
// memory and CPU; the failure pinned above the terminal with the lines that explain it
// (the user's own frames first, the rest folded).

import { $, formatDuration, setText, show } from './dom.js';

export const LIVE = new Set(['starting', 'running', 'stopping']);

const FRAME = /^\s*(?:\| ?)?\s*File "([^"]+)", line \d+/;
// Frames of Python itself and of installed packages: not the user's code.
const LIBRARY = /site-packages|dist-packages|\/lib\/python\d|<frozen |importlib|^<string>|node_modules|node:internal/;
// The preview's own folder, cut from paths (the user knows their files by relative path).
const PREVIEW_DIR = /(?:\/[^\s"'/]+)*\/preview_[0-9a-f]+\//g;

const SIGNALS = { 1: 'SIGHUP', 2: 'SIGINT', 9: 'SIGKILL', 15: 'SIGTERM' };

/** Why it stopped, as words: "stopped by the user", "stopped: idle for 600 s". */
export function stoppedWords(reason) {
  if (!reason) return 'stopped';
  return reason.startsWith('stopped ') ? reason : `stopped: ${reason}`;
}

/** How a preview ended, as words: a clean stop is not a crash. Null if it did not end. */
export function describeEnd(data) {
  if (data.status === 'stopped' && data.stopReason) return stoppedWords(data.stopReason);
  const code = data.exitCode;
  if (code === null || code === undefined) return null;
  const signal = code < 0 ? SIGNALS[-code] || `signal ${-code}` : null;
  if (data.status === 'stopped') return signal ? `stopped (${signal})` : `stopped (exit code ${code})`;
  if (data.status === 'failed') return signal ? `killed by ${signal}` : `exited with code ${code}`;
  return null;
}

/**
 * Split a failure's lines into the user's own frames (each with its source line) and
 * the final exception line, and everything else. `own` is empty when no frame is theirs.
 */
export function userFrames(lines) {
  const clean = lines.map((line) => line.replace(PREVIEW_DIR, ''));
  const own = [];
  for (let i = 0; i < clean.length; i++) {
    const frame = FRAME.exec(clean[i]);
    if (!frame || LIBRARY.test(frame[1]) || frame[1].startsWith('/')) continue;
    own.push(clean[i]);
    const next = clean[i + 1];
    if (next !== undefined && !FRAME.test(next) && /^\s/.test(next)) own.push(next);
  }
  const last = [...clean].reverse().find((line) => line.trim() && !/^\s/.test(line));
  if (own.length && last) own.push(last);
  return { own, all: clean };
}

export class StatusPanel {
  constructor() {
    this.badge = $('status-badge');
  }

  reset() {
    this.setStatus(null);
    this.metrics({});
    this.clearFailure();
  }

  /** The badge: starting, running, stopping, stopped, failed (or not launched). */
  setStatus(status) {
    this.badge.dataset.status = status || 'none';
    setText(this.badge, status || 'not launched');
    // No health but a running preview's: gone the moment it stops, not at the next poll.
    if (status !== 'running') this.health('');
  }

  health(value) {
    setText($('metric-health'), value && value !== 'unknown' ? value : '–');
    $('metric-health').dataset.health = value;
  }

  /** Metrics from GET …/preview/status (missing ones shown as –). */
  metrics(data) {
    const live = LIVE.has(data.status);
    // Health is a running preview's alone: none before it answers, none once it ended.
    setText($('metric-uptime'), formatDuration(data.uptime));
    this.health(data.status === 'running' ? data.healthStatus || '' : '');
    setText($('metric-memory'), Number.isFinite(data.memoryMb) ? `${data.memoryMb.toFixed(1)} MiB` : '–');
    setText($('metric-cpu'), Number.isFinite(data.cpuPercent) ? `${data.cpuPercent.toFixed(1)} %` : '–');
    // The smoke check: each parameterless GET route called once after the start.
    const smoke = live ? data.health : null;
    const routes = $('metric-routes');
    const failing = smoke?.failing || [];
    const answered = smoke ? smoke.checked - failing.length : 0;
    setText(routes, !smoke ? '–' : !smoke.checked ? 'none to call' : `${answered} of ${smoke.checked} OK`);
    routes.dataset.health = !smoke ? '' : failing.length ? 'unhealthy' : 'healthy';
    routes.title = failing.map((f) => `GET ${f.path}: ${f.status ?? 'no answer'}${f.cause ? ` (${f.cause})` : ''}`).join('\n');
  }

  showFailure(message, lines) {
    setText($('failure-message'), message || 'see the terminal');
    const { own, all } = userFrames(lines || []);
    setText($('failure-own'), own.join('\n'));
    show($('failure-own'), own.length > 0);
    const details = $('failure-details');
    setText($('failure-lines'), all.join('\n'));
    setText($('failure-lines-summary'), own.length ? `Full output (${all.length} lines)` : `Last output (${all.length} lines)`);
    show(details, all.length > 0);
    details.open = own.length === 0; // nothing of theirs to show first: show it all
    show($('failure'), true);
  }

  clearFailure() {
    show($('failure'), false);
    setText($('failure-message'), '');
    setText($('failure-own'), '');
    setText($('failure-lines'), '');
  }
}
