// Small DOM helpers. Every piece of text goes through textContent or a Text node,
// never through markup parsing: a log line, a file name or a response body that looks
// like HTML stays text, and nothing an app prints can run in this page.

/** An element with attributes, listeners and children (strings become Text nodes). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else el.setAttribute(key, value === true ? '' : String(value));
  }
  appendAll(el, children);
  return el;
}

export function appendAll(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const $ = (id) => document.getElementById(id);

/** Show or hide with the hidden attribute (no inline style: the CSP forbids it). */
export function show(el, visible = true) {
  el.hidden = !visible;
}

export function setText(el, text) {
  el.textContent = text === null || text === undefined ? '' : String(text);
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.floor(seconds);
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const secs = String(s % 60).padStart(2, '0');
  if (hours) return `${hours}h ${String(minutes).padStart(2, '0')}m ${secs}s`;
  if (minutes) return `${minutes}m ${secs}s`;
  return `${s}s`;
}

/** An ISO time as the page shows it, "2026-11-28 12:09" (UTC, as the service sends it);
 * `seconds`: "2026-11-28 12:09:21". Empty for none. */
export function shownTime(iso, { seconds = false } = {}) {
  return iso ? iso.replace('T', ' ').slice(0, seconds ? 19 : 16) : '';
}

/** "1 file", "3 files": a count and its noun, in the singular for one. */
export function counted(count, noun) {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
