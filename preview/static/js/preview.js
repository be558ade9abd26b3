// One generation's preview as shown on screen: launch and stop, the status (polled
// every 2 s while the preview is live, and updated at once by the stream's `status`
// events), and the terminal fed by the live log stream of one preview instance.

import * as api from './api.js';
import { $, setText, show } from './dom.js';
import { LogModel } from './logmodel.js';
import { LogStream } from './logstream.js';
import { LIVE } from './status.js';

const POLL_MS = 2000;
const OLDER_PAGE = 5000; // the history endpoint's largest page
const REVEAL_WAIT_MS = 3000; // a proxy event may reach the stream just after the response
const FAILURE_LINES = 15; // as many as the service keeps (runtime.error_lines)

export class PreviewController {
  constructor({ terminal, toolbar, statusPanel, onRunning }) {
    Object.assign(this, { terminal, toolbar, statusPanel, onRunning });
    this.gid = null;
    this.previewId = null;
    this.status = null;
    this.model = new LogModel();
    this.stream = null;
    this.pollTimer = null;
    this.loadingOlder = false;
    this.cap = this.model.cap;
    $('launch').addEventListener('click', () => this.launch());
    $('stop').addEventListener('click', () => this.stop());
    $('open-app').addEventListener('click', () => this.openApp());
  }

  /** Show this generation: its latest preview if it has one. */
  async select(gid) {
    this.detach();
    this.gid = gid;
    this.previewId = null;
    this.status = null;
    this.statusPanel.reset();
    this.showError(null);
    setText($('preview-subtitle'), gid);
    this.model = new LogModel({ cap: this.cap });
    this.terminal.setModel(this.model, 'Loading…');
    this.toolbar.setTarget(gid, null);
    this.toolbar.setConnection('idle');
    this.updateButtons();
    let data = null;
    try {
      data = await api.status(gid);
    } catch (error) {
      if (error.code !== 'no_preview') this.showError(error.message);
    }
    if (this.gid !== gid) return;
    if (data) this.attach(data);
    else this.terminal.setEmptyText('No preview yet: launch it to see its output here.');
  }

  /** Follow one preview instance: a fresh model and a stream from its first event. */
  attach(data) {
    this.detach();
    this.previewId = data.previewInstanceId;
    this.failureLines = null;
    this.model = new LogModel({ cap: this.cap });
    this.terminal.setModel(this.model, 'Waiting for output…');
    this.toolbar.setTarget(this.gid, this.previewId);
    this.toolbar.emit(); // the filter in the toolbar applies to the new model too
    this.statusPanel.reset();
    this.statusPanel.beginPhases();
    this.applyStatus(data);
    const { gid, previewId } = this;
    this.stream = new LogStream({
      url: (lastEventId) => api.streamUrl(gid, previewId, lastEventId),
      lastId: () => this.model.lastId,
      onEvent: (event) => this.onEvent(event),
      onStatus: (status) => this.onStatus(status),
      onEnd: () => this.refreshStatus(),
      onState: (state) => this.toolbar.setConnection(state),
      beforeReopen: () => api.openSession(), // the session cookie may have expired
    });
    this.stream.open();
  }

  detach() {
    if (this.stream) this.stream.stop();
    this.stream = null;
    clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  onEvent(event) {
    if (!this.model.add(event)) return;
    const entry = this.model.entries[this.model.entries.length - 1];
    this.terminal.linesAdded(this.model.matches(entry) ? 1 : 0);
    if (event.source === 'system') this.statusPanel.systemEvent(event);
  }

  onStatus(status) {
    this.setStatus(status);
    if (status === 'running') this.onRunning(this.gid);
    if (status === 'failed' || status === 'stopped') this.refreshStatus();
    else this.schedulePoll();
  }

  setStatus(status) {
    this.status = status;
    this.statusPanel.setStatus(status);
    if (status !== 'starting' && status !== 'failed') show($('phases'), false);
    this.updateButtons();
  }

  applyStatus(data) {
    this.setStatus(data.status);
    this.statusPanel.metrics(data);
    if (data.status === 'failed') this.statusPanel.showFailure(data.errorMessage, this.errorLines(data));
    else this.statusPanel.clearFailure();
    const parts = [this.gid, data.port ? `port ${data.port}` : null, data.stopReason];
    setText($('preview-subtitle'), parts.filter(Boolean).join(' · '));
    this.schedulePoll();
  }

  /**
   * The lines that explain a failure. The service has them only while it still holds
   * the preview (a finished one's status has none), so the first ones seen are kept,
   * and failing that the last lines the app printed are taken from the log (the same
   * lines the service would have picked).
   */
  errorLines(data) {
    if (data.errorLines?.length) this.failureLines = data.errorLines;
    if (this.failureLines?.length) return this.failureLines;
    const lines = [];
    const entries = this.model.entries;
    for (let i = entries.length - 1; i >= 0 && lines.length < FAILURE_LINES; i--) {
      if (entries[i].source === 'app') lines.unshift(entries[i].plain);
    }
    return lines;
  }

  schedulePoll() {
    if (this.pollTimer || !LIVE.has(this.status)) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      this.refreshStatus();
    }, POLL_MS);
  }

  async refreshStatus() {
    const { gid, previewId } = this;
    if (!previewId) return;
    try {
      const data = await api.status(gid, previewId);
      if (this.previewId === previewId) this.applyStatus(data);
    } catch (error) {
      if (this.previewId === previewId) this.showError(error.message);
      this.schedulePoll();
    }
  }

  updateButtons() {
    const live = LIVE.has(this.status);
    $('launch').disabled = !this.gid || live;
    $('stop').disabled = !(this.status === 'starting' || this.status === 'running');
    $('open-app').disabled = this.status !== 'running';
  }

  showError(message) {
    setText($('preview-error'), message || '');
    show($('preview-error'), Boolean(message));
  }

  launchOptions() {
    const options = {};
    const command = $('launch-command').value.trim();
    if (command) options.command = command.split(/\s+/);
    const health = $('launch-health').value.trim();
    if (health && health !== '/') options.healthPath = health;
    return options;
  }

  async launch() {
    const gid = this.gid;
    this.showError(null);
    $('launch').disabled = true;
    try {
      const data = await api.launch(gid, this.launchOptions());
      api.previewTokens.set(gid, data.previewToken);
      if (this.gid === gid) this.attach(data);
    } catch (error) {
      const running = (error.details?.running || []).map((p) => p.generationId || p.previewInstanceId).filter(Boolean);
      this.showError(`${error.message}${running.length ? ` (running: ${running.join(', ')})` : ''}`);
      this.updateButtons();
      if (error.code === 'preview_already_running' && this.gid === gid) this.select(gid);
    }
  }

  async stop() {
    const { gid, previewId } = this;
    $('stop').disabled = true;
    this.showError(null);
    try {
      await api.stop(gid);
    } catch (error) {
      this.showError(error.message);
    }
    if (this.previewId === previewId) this.refreshStatus();
  }

  async openApp() {
    try {
      let token = api.previewTokens.get(this.gid);
      if (!token) {
        token = (await api.rotatePreviewToken(this.gid)).previewToken;
        api.previewTokens.set(this.gid, token);
      }
      // The service answers 303 and swaps the token for a cookie scoped to the proxy path.
      window.open(api.proxyUrl(this.gid, '/docs', token), '_blank', 'noopener');
    } catch (error) {
      this.showError(error.message);
    }
  }

  /** Scrolled to the top with lines trimmed: bring back a page of older ones. */
  async loadOlder() {
    const { gid, previewId, model } = this;
    if (this.loadingOlder || !previewId || !model.hasOlder) return;
    this.loadingOlder = true;
    try {
      const first = model.firstId;
      const after = Math.max(0, first - 1 - OLDER_PAGE);
      const page = await api.history(gid, previewId, after, Math.min(OLDER_PAGE, first - 1));
      if (this.model === model) this.terminal.prependOlder(page.events);
    } catch (error) {
      this.showError(error.message);
    } finally {
      this.loadingOlder = false;
    }
  }

  /** Scroll the terminal to the `proxy` event of a request (clearing a filter hiding it). */
  async reveal(requestId) {
    const deadline = performance.now() + REVEAL_WAIT_MS;
    let entry = this.model.findRequest(requestId);
    while (!entry && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      entry = this.model.findRequest(requestId);
    }
    if (!entry) {
      this.showError(`The log line of request ${requestId} is not in this page's memory.`);
      return;
    }
    if (!this.terminal.revealId(entry.id)) {
      this.toolbar.resetFilters();
      this.terminal.revealId(entry.id);
    }
    this.terminal.viewport.focus();
  }
}
