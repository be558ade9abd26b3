// One generation's preview as shown on screen: launch and stop, the status (polled
// every 2 s while the preview is live, and updated at once by the stream's lifecycle
// events), the start-up timeline, and the terminal fed by the live log stream of one
// preview instance.
//
// What the page says stays true: a new action clears the previous outcome (an old
// failure is not shown under a refused launch), and each notice is kept under a key so
// the one that no longer holds (the service unreachable, say) is cleared on its own.

import * as api from './api.js';
import { $, h, setText, show } from './dom.js';
import { MissingEnvForm } from './envform.js';
import { LogModel } from './logmodel.js';
import { LogStream } from './logstream.js';
import { PhaseTimeline } from './phases.js';
import { PresetPicker } from './presets.js';
import { describeEnd, LIVE } from './status.js';
import { SwapNotice } from './swapnotice.js';
import { Toasts } from './toasts.js';

// A line printed this long ago when it arrives is history the page catches up on (it
// opened, or reconnected), not one printed while it watched.
const RECENT_MS = 5000;
const isRecent = (event) => Date.now() - Date.parse(event.timestamp) < RECENT_MS;

const POLL_MS = 2000;
// An ended preview's generation is looked at this often for a newer preview launched
// elsewhere (`preview watch`'s relaunch once a fix is saved, the CLI, another tab).
const ENDED_POLL_MS = 3000;
const OLDER_PAGE = 5000; // the history endpoint's largest page
const CATCH_UP_PAGES = 40; // at most this many pages read after a stream that ended unseen
const REVEAL_WAIT_MS = 3000; // a proxy event may reach the stream just after the response
const FAILURE_LINES = 15; // as many as the service keeps (runtime.error_lines)
const STEP = { starting: 0, running: 1, stopping: 2, stopped: 3, failed: 3 }; // one way

// What a user a generation is shared with is told of their access (issue 69).
const ACCESS_NOTE = {
  viewer: 'Shared with you: you may watch (read-only).',
  caller: 'Shared with you: you may watch and call the app (request tester).',
};

export class PreviewController {
  constructor({ terminal, toolbar, statusPanel, onRunning, onApplyOutcome = () => {}, nameOf = (gid) => gid, onStopped = () => {}, onLaunched = () => {}, onEnded = () => {}, onAccessEnded = () => {} }) {
    Object.assign(this, { terminal, toolbar, statusPanel, onRunning, onApplyOutcome, nameOf, onStopped, onLaunched, onEnded, onAccessEnded });
    this.gid = null;
    this.previewId = null;
    this.status = null;
    this.data = null; // the last status answer
    this.model = new LogModel();
    this.stream = null;
    this.pollTimer = null;
    this.loadingOlder = false;
    this.cap = this.model.cap;
    this.notices = new Map(); // key -> message; shown together, cleared one by one
    this.phases = new PhaseTimeline();
    this.envForm = new MissingEnvForm((env) => this.launch(env));
    this.presets = new PresetPicker(() => this.launch());
    this.toasts = new Toasts();
    $('launch').addEventListener('click', () => this.launch());
    $('stop').addEventListener('click', () => this.stop());
    $('open-app').addEventListener('click', () => this.openApp());
    this.swapNotice = new SwapNotice({
      onSwapped: (gid) => this.onRunning(gid), // the new code's routes, which revision runs
      onApplyOutcome: (gid) => this.onApplyOutcome(gid),
      onOpenApp: () => this.openApp(),
    });
  }

  /** Show this generation: its latest preview if it has one. */
  async select(gid) {
    this.detach();
    this.gid = gid;
    this.previewId = null;
    this.status = null;
    this.data = null;
    this.statusPanel.reset();
    this.phases.reset();
    this.clearNotices();
    this.showPresence([]);
    this.swapNotice.reset();
    setText($('preview-subtitle'), gid);
    delete $('preview-subtitle').dataset.loaded;
    this.presets.load(gid);
    this.model = new LogModel({ cap: this.cap });
    this.terminal.setModel(this.model, 'Loading…');
    this.toolbar.setTarget(gid, null);
    this.toolbar.setConnection('idle');
    this.updateButtons();
    api.previewConfig(gid).then(
      (config) => {
        if (this.gid === gid) this.phases.startupTimeout = config.startupTimeout;
      },
      () => {},
    );
    // The generation says whether it was ever launched: a never-launched one is not
    // asked for a status it does not have (a 404 in the console for nothing).
    let data = null;
    let unknown = false;
    try {
      const generation = await api.getGeneration(gid);
      if (this.gid === gid) this.setAccess(generation.access || 'owner');
      if (this.gid === gid && generation.previewInstanceId) data = await api.status(gid);
    } catch (error) {
      unknown = error.code !== 'no_active_preview';
      if (unknown) this.showError(error.message, 'status');
    }
    // Another generation picked, or a launch made meanwhile (its preview attached): this
    // answer is older than what the page shows and must not replace it.
    if (this.gid !== gid) return;
    if (this.previewId === null) this.showFound(data, unknown);
    // Said for what waits on the page (the UI tests): this generation's view is laid out.
    $('preview-subtitle').dataset.loaded = gid;
  }

  /** What select found: the generation's preview, or why there is none to show. */
  showFound(data, unknown) {
    if (data) this.attach(data);
    else if (unknown) {
      // Not asked (the service away, say): not "not launched" either. The page picks it
      // again once the service answers (resume).
      this.setStatus('unknown');
      this.terminal.setEmptyText('Its preview could not be looked up yet.');
    } else this.terminal.setEmptyText('No preview yet: launch it to see its output here.');
  }

  /** The service is back after an outage: pick up where the page was. */
  resume() {
    if (!this.gid) return;
    if (!this.stream || this.stream.closed) this.select(this.gid);
    else this.refreshStatus();
  }

  /** Follow one preview instance: a fresh model and a stream from its first event. */
  attach(data) {
    this.detach();
    this.previewId = data.previewInstanceId;
    this.status = null; // (the last preview's)
    this.failureLines = null;
    this.model = new LogModel({ cap: this.cap });
    this.model.setProbePath(data.healthPath);
    this.terminal.setModel(this.model, 'Waiting for output…');
    this.toolbar.setTarget(this.gid, this.previewId);
    this.toolbar.emit(); // the filter in the toolbar applies to the new model too
    this.statusPanel.reset();
    this.phases.begin({ folded: data.status === 'running' });
    this.applyStatus(data);
    const { gid, previewId } = this;
    this.stream = new LogStream({
      url: (lastEventId) => api.streamUrl(gid, previewId, lastEventId),
      lastId: () => this.model.lastId,
      onEvent: (event) => this.onEvent(event),
      onStatus: (status) => this.onStatus(status),
      onEnd: () => this.refreshStatus(),
      onRevoked: () => this.accessEnded(),
      onState: (state) => {
        this.toolbar.setConnection(state);
        this.terminal.setEnded(state === 'ended'); // no "Resume" on a log that is over
      },
      beforeReopen: () => this.beforeReopen(gid, previewId),
    });
    this.stream.open();
  }

  /**
   * The stream was refused (its session cookie expired, the service restarted, or the
   * preview is over and its stream answers 204): reopen it unless the preview is over,
   * in which case the lines not yet seen are read from the history instead.
   */
  async beforeReopen(gid, previewId) {
    await api.renewSession();
    const data = await api.status(gid, previewId);
    if (this.previewId !== previewId) return false;
    if (LIVE.has(data.status)) return true;
    await this.catchUp(previewId);
    if (this.previewId === previewId) this.applyStatus(data);
    return false;
  }

  async catchUp(previewId) {
    const model = this.model;
    for (let page = 0; page < CATCH_UP_PAGES && this.previewId === previewId; page++) {
      const { events } = await api.history(this.gid, previewId, model.lastId, OLDER_PAGE);
      if (this.model !== model || !events?.length) return;
      for (const event of events) this.onEvent(event);
      if (events.length < OLDER_PAGE) return;
    }
  }

  detach() {
    if (this.stream) this.stream.stop();
    this.stream = null;
    clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  onEvent(event) {
    const before = this.model.length;
    if (!this.model.add(event)) return;
    this.terminal.linesAdded(this.model.length - before, isRecent(event));
    this.phases.event(event);
    if (event.source === 'alert' && isRecent(event)) {
      this.toasts.show(event.message, event.level === 'ERROR' ? 'error' : 'warn');
    }
  }

  onStatus(status) {
    this.setStatus(status);
    // Its metrics (health above all) are those of the last answer, from before it ran.
    if (status === 'running' || status === 'stopping') this.refreshStatus();
    if (status === 'running') this.onRunning(this.gid);
    if (status === 'failed' || status === 'stopped') {
      this.refreshStatus();
      this.onRunning(this.gid); // no longer running: the endpoints come from the source
    } else this.schedulePoll();
  }

  setStatus(status) {
    // The shown preview went from live to ended (stopped, failed): what was said of it
    // running is said no more (onEnded).
    const ended = LIVE.has(this.status) && (status === 'stopped' || status === 'failed');
    this.status = status;
    if (ended) this.onEnded(this.gid);
    this.statusPanel.setStatus(status);
    this.updateButtons();
  }

  applyStatus(data) {
    // An answer asked before a newer state came (the stream's event, another poll's
    // answer) does not take the preview back: its states only go forward.
    if (data.previewInstanceId === this.previewId && STEP[data.status] < STEP[this.status]) {
      this.schedulePoll();
      return;
    }
    this.data = data;
    this.clearNotice('status');
    if (data.access) this.setAccess(data.access);
    this.showPresence(data.viewers);
    this.setStatus(data.status);
    this.statusPanel.metrics(data);
    if (data.status === 'failed') this.statusPanel.showFailure(data.errorMessage, this.errorLines(data));
    else this.statusPanel.clearFailure();
    this.envForm.ask(this.gid, data.status === 'failed' ? data.missingEnv : []);
    this.swapNotice.update(this.gid, this.previewId, data);
    this.phases.settle(data.status);
    const ending = describeEnd(data);
    const reason = data.status === 'failed' ? data.stopReason : null; // a stop's is its ending
    // The port while it is the preview's: once it ended, the pool gives it to the next.
    const port = data.port && LIVE.has(data.status) ? `port ${data.port}` : null;
    // What the service changed to make it run, in force for its revisions too: the
    // sign that a red traceback above was the first attempt's, fixed since.
    const fixes = data.runtime?.fixes?.length ? `fixed: ${data.runtime.fixes.join(', ')}` : null;
    // Variables it requires that nobody set, started on stand-ins: to give with `env`.
    const standIns = data.runtime?.standInEnv?.length ? `stand-ins for ${data.runtime.standInEnv.join(', ')}` : null;
    const parts = [this.gid, port, reason, ending, fixes, standIns];
    const subtitle = $('preview-subtitle');
    setText(subtitle, parts.filter(Boolean).join(' · '));
    // The raw code stays at hand for who wants it.
    if (ending && data.exitCode !== null && data.exitCode !== undefined) subtitle.title = `exit code ${data.exitCode}`;
    else subtitle.removeAttribute('title');
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
    if (this.pollTimer || !this.previewId || !this.status) return;
    const live = LIVE.has(this.status);
    this.pollTimer = setTimeout(
      () => {
        this.pollTimer = null;
        if (live) this.refreshStatus();
        else this.followNewer();
      },
      live ? POLL_MS : ENDED_POLL_MS,
    );
  }

  /** The shown preview has ended: a newer one of its generation, launched elsewhere,
   * is followed (shown as a selection shows it, ended or not). */
  async followNewer() {
    const { gid, previewId } = this;
    try {
      const data = await api.status(gid, undefined, { poll: true });
      if (this.previewId !== previewId) return;
      if (data.previewInstanceId !== previewId) {
        this.attach(data);
        return;
      }
    } catch (error) {
      if (this.previewId !== previewId) return;
    }
    this.schedulePoll();
  }

  async refreshStatus() {
    const { gid, previewId } = this;
    if (!previewId) return;
    try {
      const data = await api.status(gid, previewId, { poll: true });
      if (this.previewId === previewId) this.applyStatus(data);
    } catch (error) {
      if (this.previewId === previewId && error.status !== 0) this.showError(error.message, 'status');
      this.schedulePoll();
    }
  }

  updateButtons() {
    const live = LIVE.has(this.status);
    $('launch').disabled = !this.gid || live || this.status === 'unknown';
    $('stop').disabled = !(this.status === 'starting' || this.status === 'running');
    $('open-app').disabled = this.status !== 'running';
  }

  /** A notice above the terminal, kept under `key` until cleared (or replaced). */
  /** What the signed-in user may do with the shown generation: the page shows a shared
   * one read-only (CSS on body[data-access]), the tester only to a caller. */
  setAccess(access) {
    api.access.set(this.gid, access);
    document.body.dataset.access = access;
    setText($('access-note'), ACCESS_NOTE[access] || '');
    show($('access-note'), Boolean(ACCESS_NOTE[access]));
  }

  /** Who watches the preview now (the status's `viewers`): a count and their ids. */
  showPresence(viewers) {
    const list = Array.isArray(viewers) ? viewers : [];
    setText($('presence'), list.length ? `Watching now (${list.length}): ${list.join(', ')}` : '');
    show($('presence'), list.length > 0);
  }

  /** The share this user watched through was revoked or expired. */
  accessEnded() {
    this.detach();
    this.showPresence([]);
    this.toolbar.setConnection('ended');
    this.showError('Your access to this preview ended: its share was revoked or expired.', 'access');
    this.onAccessEnded(this.gid);
  }

  showError(message, key = 'action') {
    if (message) this.notices.set(key, message);
    else this.notices.delete(key);
    if (key === 'action') $('running-list').replaceChildren();
    this.renderNotices();
  }

  clearNotice(key) {
    if (this.notices.delete(key)) this.renderNotices();
  }

  clearNotices() {
    this.notices.clear();
    $('running-list').replaceChildren();
    this.renderNotices();
  }

  renderNotices() {
    const text = [...this.notices.values()].join('\n');
    setText($('preview-error-text'), text);
    show($('preview-error'), Boolean(text) || $('running-list').children.length > 0);
  }

  launchOptions(env) {
    const options = {};
    // A preset's flipped switches, then the form's variables: those given here win.
    const preset = this.presets.options();
    if (preset.preset) options.preset = preset.preset;
    env = { ...(preset.env || {}), ...env };
    if (Object.keys(env).length) options.env = env;
    const command = $('launch-command').value.trim();
    if (command) options.command = command.split(/\s+/);
    const health = $('launch-health').value.trim();
    if (health) options.healthPath = health;
    return options;
  }

  /** Launch with the options' fields and the variables given in the form (`env`). */
  async launch(env = this.envForm.env(this.gid)) {
    const gid = this.gid;
    // A new action: the previous outcome (a failure, a refusal) no longer applies.
    this.clearNotices();
    this.statusPanel.clearFailure();
    this.envForm.ask(gid, []);
    this.phases.reset();
    $('launch').disabled = true;
    try {
      const data = await api.launch(gid, this.launchOptions(env));
      api.previewTokens.set(gid, data.previewToken);
      if (this.gid === gid) this.attach(data);
      this.onLaunched(gid);
    } catch (error) {
      if (this.gid !== gid) return;
      this.showError(error.message);
      this.showRunning(error.details?.running || []);
      this.updateButtons();
      if (error.code === 'preview_already_running') this.select(gid);
    }
  }

  /** The previews that hold the tier's limit, by name, each with a Stop button. */
  showRunning(running) {
    const items = running
      .filter((preview) => preview.generationId)
      .map((preview) => {
        const name = preview.projectId || this.nameOf(preview.generationId);
        const button = h('button', {
          type: 'button',
          class: 'button small danger',
          text: 'Stop',
          'aria-label': `Stop ${name}`,
        });
        const item = h('li', { dataset: { gid: preview.generationId } }, h('span', { class: 'running-name', text: name }), h('span', { class: 'hint', text: preview.status || '' }), button);
        button.addEventListener('click', async () => {
          button.disabled = true;
          try {
            await api.stop(preview.generationId);
            item.remove();
            if (!$('running-list').children.length) this.showError(null);
            this.onStopped(preview.generationId);
          } catch (error) {
            button.disabled = false;
            if (error.code === 'no_active_preview') item.remove();
            else this.showError(error.message);
          }
        });
        return item;
      });
    $('running-list').replaceChildren(...items);
    this.renderNotices();
  }

  async stop() {
    const { gid, previewId } = this;
    $('stop').disabled = true;
    this.clearNotices();
    try {
      await api.stop(gid);
    } catch (error) {
      if (error.code !== 'no_active_preview') this.showError(error.message);
    }
    if (this.previewId === previewId) this.refreshStatus();
  }

  /** Where "Open app" goes: the app's own API docs when it has them, else its root. */
  appPath() {
    return this.docsPath || '/';
  }

  async openApp() {
    const { gid } = this;
    try {
      let token = api.previewTokens.get(gid);
      let ticket = null;
      try {
        if (token) ticket = await api.appTicket(gid, token, this.appPath());
      } catch (error) {
        if (error.status !== 403) throw error; // a token revoked or expired: get a new one
      }
      if (!ticket) {
        token = (await api.newPreviewToken(gid)).previewToken;
        api.previewTokens.set(gid, token);
        ticket = await api.appTicket(gid, token, this.appPath());
      }
      // The app at its own origin: the ticket is traded there, once, for a cookie of
      // that origin alone, and the tab lands on the app's docs (or root) without it.
      window.open(ticket.url, '_blank', 'noopener');
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
