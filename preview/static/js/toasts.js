// Toasts: short notices in a corner of the page that come and go on their own: an alert
// rule of the shown generation that fired (an `alert` event of its stream). Each goes
// after TOAST_MS or when closed; at most MAX_TOASTS at once, the oldest going first. An
// alert older than RECENT_MS (the history replayed when a page opens) is a line of the
// terminal only, never a toast: the page tells of what happens while it is open.

import { $, h } from './dom.js';

const TOAST_MS = 10000;
const MAX_TOASTS = 3;
const RECENT_MS = 60000;

export class Toasts {
  constructor(root = $('toasts')) {
    this.root = root;
  }

  /** An alert event of the stream: a toast when it is recent. */
  alert(event) {
    const at = Date.parse(event.timestamp);
    if (!Number.isFinite(at) || Date.now() - at > RECENT_MS) return;
    this.show(event.message, event.level === 'ERROR' ? 'error' : 'warn');
  }

  show(text, kind) {
    const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss', text: '×' });
    const toast = h('div', { class: `toast toast-${kind}`, role: 'status' }, h('span', { class: 'toast-text', text }), close);
    const timer = setTimeout(() => toast.remove(), TOAST_MS);
    close.addEventListener('click', () => {
      clearTimeout(timer);
      toast.remove();
    });
    this.root.append(toast);
    while (this.root.children.length > MAX_TOASTS) this.root.firstElementChild.remove();
  }
}
