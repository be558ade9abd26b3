// Toasts: short notices in a corner of the page that come and go on their own: an alert
// rule of the shown generation that fired while the page watched (preview.js: never an
// alert of the history a page catches up on). Each goes after TOAST_MS or when closed;
// at most MAX_TOASTS at once, the oldest going first.

import { $, h } from './dom.js';

const TOAST_MS = 10000;
const MAX_TOASTS = 3;

export class Toasts {
  constructor(root = $('toasts')) {
    this.root = root;
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
