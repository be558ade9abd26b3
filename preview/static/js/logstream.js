// The live log of one preview over EventSource.
//
// The browser does the resuming: after a dropped connection it reconnects by itself
// (after the server's `retry:` hint) and sends Last-Event-ID, so the server replays
// exactly what was missed; the model drops anything it already has. Plain events come
// through onmessage, lifecycle ones as `status`, and `end` means the preview is over
// and everything was sent: only then is the EventSource closed.
//
// If the browser gives up instead (an HTTP error such as an expired session cookie),
// this reopens after a pause, resuming from the last id it handled.

const REOPEN_DELAY_MS = 3000;

export class LogStream {
  /**
   * `url(lastEventId)` builds the stream URL; `onEvent(event)` gets each log event,
   * `onStatus(status)` lifecycle changes, `onEnd(info)` the end, `onState(state)` the
   * connection state: connecting, live, reconnecting, ended.
   */
  constructor({ url, lastId = () => 0, onEvent, onStatus, onEnd, onState, beforeReopen = async () => {} }) {
    Object.assign(this, { url, lastId, onEvent, onStatus, onEnd, onState, beforeReopen });
    this.source = null;
    this.closed = false;
    this.timer = null;
    this.connections = 0;
  }

  open(lastEventId = 0) {
    this.onState('connecting');
    const source = new EventSource(this.url(lastEventId || undefined));
    this.source = source;
    source.onopen = () => {
      this.connections += 1;
      this.onState('live');
    };
    source.onmessage = (message) => this.onEvent(JSON.parse(message.data));
    source.addEventListener('status', (message) => {
      const event = JSON.parse(message.data);
      this.onEvent(event);
      this.onStatus(event.status);
    });
    source.addEventListener('end', (message) => {
      this.stop();
      this.onState('ended');
      this.onEnd(JSON.parse(message.data));
    });
    source.onerror = () => {
      if (this.closed) return;
      if (source.readyState === EventSource.CONNECTING) {
        this.onState('reconnecting');
        return;
      }
      // CLOSED: the browser will not retry (an error status); try again ourselves.
      this.onState('reconnecting');
      source.close();
      this.timer = setTimeout(async () => {
        if (this.closed) return;
        try {
          await this.beforeReopen();
        } catch {
          // The reopened stream reports its own failure.
        }
        if (!this.closed) this.open(this.lastId());
      }, REOPEN_DELAY_MS);
    };
  }

  /** Stop for good (the preview ended, or another one is shown). */
  stop() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.source) this.source.close();
  }
}
