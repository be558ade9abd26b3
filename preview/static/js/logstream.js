// The live log of one preview over EventSource.
//
// The browser does the resuming: after a dropped connection it reconnects by itself
// (after the server's `retry:` hint) and sends Last-Event-ID, so the server replays
// exactly what was missed; the model drops anything it already has. Every line comes
// through onmessage (a lifecycle one carries `status`; the older named `status` event is
// accepted too), and `end` means the preview is over and everything was sent: only then
// is the EventSource closed.
//
// If the browser gives up instead (an HTTP error such as an expired session cookie, the
// service restarting, or a 204 for a stream that is already finished), `beforeReopen`
// decides: it may end the stream (the preview is over) or let it reopen after a pause
// that grows (1 s, 2 s, 4 s … 30 s), resuming from the last id it handled, unless the
// server says (204) that the preview is over and nothing is left to send.

const REOPEN_FIRST_MS = 1000;
const REOPEN_MAX_MS = 30_000;

export class LogStream {
  /**
   * `url(lastEventId)` builds the stream URL; `onEvent(event)` gets each log event,
   * `onStatus(status)` lifecycle changes, `onEnd(info)` the end, `onState(state)` the
   * connection state: connecting, live, reconnecting, ended. `beforeReopen()` resolves
   * to false when the stream should not be reopened (it then ends).
   */
  constructor({ url, lastId = () => 0, onEvent, onStatus, onEnd, onState, beforeReopen = async () => true }) {
    Object.assign(this, { url, lastId, onEvent, onStatus, onEnd, onState, beforeReopen });
    this.source = null;
    this.closed = false;
    this.timer = null;
    this.connections = 0;
    this.failures = 0;
  }

  open(lastEventId = 0) {
    this.onState('connecting');
    const source = new EventSource(this.url(lastEventId || undefined));
    this.source = source;
    const handle = (message) => {
      const event = JSON.parse(message.data);
      this.onEvent(event);
      if (event.status) this.onStatus(event.status);
    };
    source.onopen = () => {
      this.connections += 1;
      this.failures = 0;
      this.onState('live');
    };
    source.onmessage = handle;
    source.addEventListener('status', handle);
    source.addEventListener('end', (message) => {
      this.finish(JSON.parse(message.data));
    });
    source.onerror = () => {
      if (this.closed) return;
      this.onState('reconnecting');
      if (source.readyState === EventSource.CONNECTING) return; // the browser retries
      // CLOSED: the browser will not retry (an error status, or 204); decide ourselves.
      source.close();
      const delay = Math.min(REOPEN_MAX_MS, REOPEN_FIRST_MS * 2 ** this.failures);
      this.failures += 1;
      this.timer = setTimeout(() => this.reopen(), delay);
    };
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
   * Whether the server has nothing more for us: it answers 204 to a stream of a
   * finished preview with nothing after our last id. EventSource cannot tell a 204
   * from an error, so ask once with fetch (and drop any body at once).
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
    if (this.source) this.source.close();
  }
}
