// The live log of one preview, read with fetch as a stream of server-sent events.
//
// Not with EventSource: the browser dispatches one DOM event per line, each its own
// piece of native work, and a flood of 20,000 lines a second kept the page's main thread
// busy with nothing else (JS round trips of seconds). Read as text, the lines are parsed
// and handed over in slices of a few milliseconds, the page answering in between.
//
// The resuming is the same as EventSource's: a stream that ends without `end` (the
// service dropped a subscriber that fell behind, or restarted) is reopened after the
// server's `retry:` hint from the last id received, so the server replays exactly what
// was missed; the model drops anything it already has. Every line comes as a plain
// message (a lifecycle one carries `status`; the older named `status` event is accepted
// too), and `end` means the preview is over and everything was sent.
//
// An answer other than a stream (an HTTP error such as an expired session cookie, the
// service away, or a 204 for a stream that is already finished) is left to
// `beforeReopen`: it may end the stream (the preview is over) or let it reopen after a
// pause that grows (1 s, 2 s, 4 s … 30 s), resuming from the last id it handled, unless
// the server says (204) that the preview is over and nothing is left to send.

const REOPEN_FIRST_MS = 1000;
const REOPEN_MAX_MS = 30_000;
const RETRY_MS = 2000; // until the server's `retry:` says otherwise
const SLICE_MS = 8; // the longest the reader holds the main thread at a time

const pause = () => new Promise((resolve) => setTimeout(resolve, 0));

export class LogStream {
  /**
   * `url(lastEventId)` builds the stream URL; `onEvent(event)` gets each log event,
   * `onStatus(status)` lifecycle changes, `onEnd(info)` the end, `onState(state)` the
   * connection state: connecting, live, reconnecting, ended. `beforeReopen()` resolves
   * to false when the stream should not be reopened (it then ends).
   */
  constructor({ url, lastId = () => 0, onEvent, onStatus, onEnd, onState, beforeReopen = async () => true, onRevoked = () => {} }) {
    Object.assign(this, { url, lastId, onEvent, onStatus, onEnd, onState, beforeReopen, onRevoked });
    this.controller = null;
    this.closed = false;
    this.timer = null;
    this.connections = 0;
    this.failures = 0;
    this.retryMs = RETRY_MS;
    this.lastEventId = 0; // the last id this stream received
  }

  open(lastEventId = 0) {
    this.onState('connecting');
    this.lastEventId = Math.max(this.lastEventId, Number(lastEventId) || 0);
    const controller = new AbortController();
    this.controller = controller;
    this.read(lastEventId, controller);
  }

  /** Whether `controller`'s request is still the one this stream reads. */
  current(controller) {
    return !this.closed && this.controller === controller;
  }

  async read(lastEventId, controller) {
    let response;
    try {
      response = await fetch(this.url(lastEventId || undefined), {
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { Accept: 'text/event-stream' },
        signal: controller.signal,
      });
    } catch {
      if (this.current(controller)) this.refused();
      return;
    }
    if (!this.current(controller)) return;
    if (response.status !== 200 || !response.body) {
      controller.abort(); // (a 204 has no body; an error's is not read)
      this.refused();
      return;
    }
    this.connections += 1;
    this.failures = 0;
    this.onState('live');
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || !this.current(controller)) break;
        buffer += value.includes('\r') ? value.replace(/\r\n?/g, '\n') : value;
        const cut = buffer.lastIndexOf('\n\n');
        if (cut < 0) continue;
        const frames = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        await this.dispatch(frames, controller);
      }
    } catch {
      // The connection dropped (or this stream was stopped: nothing more to do then).
    }
    if (!this.current(controller)) return;
    // Ended without `end`: reopened after the server's hint, as EventSource would.
    controller.abort();
    this.onState('reconnecting');
    this.timer = setTimeout(() => {
      if (!this.closed) this.open(Math.max(this.lastEventId, this.lastId()));
    }, this.retryMs);
  }

  /** Hand the events in `text` (whole frames) over, a slice at a time. */
  async dispatch(text, controller) {
    let began = performance.now();
    let start = 0;
    let count = 0;
    while (start < text.length) {
      let end = text.indexOf('\n\n', start);
      if (end < 0) end = text.length;
      this.frame(text.slice(start, end));
      start = end + 2;
      if (!this.current(controller)) return;
      if ((++count & 63) === 0 && performance.now() - began > SLICE_MS) {
        await pause(); // the page answers (input, rendering, other tasks) in between
        if (!this.current(controller)) return;
        began = performance.now();
      }
    }
  }

  /** One server-sent event's lines. */
  frame(text) {
    let kind = 'message';
    let data = null;
    let id = null;
    for (const line of text.split('\n')) {
      if (!line || line[0] === ':') continue; // a keep-alive comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (field === 'data') data = data === null ? value : `${data}\n${value}`;
      else if (field === 'id') id = value;
      else if (field === 'event') kind = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    }
    if (id !== null && Number(id) > this.lastEventId) this.lastEventId = Number(id);
    if (data === null) return;
    if (kind === 'end') {
      this.finish(JSON.parse(data));
      return;
    }
    if (kind === 'revoked') {
      // The share this user watched through was revoked or expired: not reopened.
      this.stop();
      this.onState('ended');
      this.onRevoked();
      return;
    }
    // An alert (a rule of the generation matched a line) is shown as a line of its own.
    if (kind !== 'message' && kind !== 'status' && kind !== 'alert') return;
    const event = JSON.parse(data);
    this.onEvent(event);
    if (event.status) this.onStatus(event.status);
  }

  /** Not a stream (an HTTP error, a 204, the service away): decide after a pause. */
  refused() {
    this.onState('reconnecting');
    const delay = Math.min(REOPEN_MAX_MS, REOPEN_FIRST_MS * 2 ** this.failures);
    this.failures += 1;
    this.timer = setTimeout(() => this.reopen(), delay);
  }

  async reopen() {
    if (this.closed) return;
    let again = true;
    try {
      again = await this.beforeReopen();
    } catch {
      // The service is still away: try again (the reopened stream reports its own failure).
    }
    if (this.closed) return;
    if (again === false || (await this.finished())) this.finish({});
    else this.open(this.lastId());
  }

  /**
   * Whether the server has nothing more for us now: it answers 204 to a stream of a
   * finished preview with nothing after our last id (asked once more after the pause,
   * and any body dropped at once).
   */
  async finished() {
    const controller = new AbortController();
    try {
      const response = await fetch(this.url(this.lastId() || undefined), {
        credentials: 'same-origin', signal: controller.signal,
      });
      return response.status === 204;
    } catch {
      return false;
    } finally {
      controller.abort();
    }
  }

  /** The preview is over and everything was received. */
  finish(info) {
    this.stop();
    this.onState('ended');
    this.onEnd(info);
  }

  /** Stop for good (the preview ended, or another one is shown). */
  stop() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.controller) this.controller.abort();
  }
}
