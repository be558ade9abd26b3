// ANSI escape sequences to styled text segments. Only SGR (colour and emphasis) is
// honoured; every other escape (cursor moves, titles, OSC links) is dropped, and other
// control characters are shown as their Unicode "control picture" so they stay visible
// without affecting layout. The result is data, rendered with textContent by the caller.

// The same grammar as the service's level classifier (preview/logs/lines.py).
const ESCAPE = /\x1b(?:\[([0-?]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

const visibleControls = (text) =>
  text.replace(CONTROLS, (c) => (c === '\x7f' ? '\u2421' : String.fromCharCode(0x2400 + c.charCodeAt(0))));

/** Plain text of a message: escapes removed, control characters made visible. */
export function plainText(message) {
  if (!/[\x00-\x08\x0b-\x1f\x7f]/.test(message)) return message;
  return visibleControls(message.replace(ESCAPE, ''));
}

function colour256(n) {
  if (n < 16) return { index: n };
  if (n < 232) {
    const steps = [0, 95, 135, 175, 215, 255];
    const v = n - 16;
    return { rgb: `rgb(${steps[Math.floor(v / 36)]}, ${steps[Math.floor(v / 6) % 6]}, ${steps[v % 6]})` };
  }
  const grey = 8 + (n - 232) * 10;
  return { rgb: `rgb(${grey}, ${grey}, ${grey})` };
}

function applySgr(style, params) {
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === 0) Object.assign(style, { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false });
    else if (code === 1) style.bold = true;
    else if (code === 2) style.dim = true;
    else if (code === 3) style.italic = true;
    else if (code === 4) style.underline = true;
    else if (code === 7) style.inverse = true;
    else if (code === 22) style.bold = style.dim = false;
    else if (code === 23) style.italic = false;
    else if (code === 24) style.underline = false;
    else if (code === 27) style.inverse = false;
    else if (code >= 30 && code <= 37) style.fg = { index: code - 30 };
    else if (code >= 90 && code <= 97) style.fg = { index: code - 90 + 8 };
    else if (code >= 40 && code <= 47) style.bg = { index: code - 40 };
    else if (code >= 100 && code <= 107) style.bg = { index: code - 100 + 8 };
    else if (code === 39) style.fg = null;
    else if (code === 49) style.bg = null;
    else if (code === 38 || code === 48) {
      let colour = null;
      if (codes[i + 1] === 5 && i + 2 < codes.length) {
        colour = colour256(codes[i + 2] & 255);
        i += 2;
      } else if (codes[i + 1] === 2 && i + 4 < codes.length) {
        const [r, g, b] = codes.slice(i + 2, i + 5).map((v) => Math.min(255, Math.max(0, v | 0)));
        colour = { rgb: `rgb(${r}, ${g}, ${b})` };
        i += 4;
      }
      if (code === 38) style.fg = colour;
      else style.bg = colour;
    }
  }
}

/**
 * Split a message into `[{text, style}]`; `style` is null for unstyled text, else
 * `{fg, bg, bold, dim, italic, underline, inverse}` with colours as `{index}` (0–15,
 * styled by CSS classes) or `{rgb}` (set through the CSSOM, which the CSP allows).
 * The concatenated texts equal `plainText(message)`.
 */
export function parseAnsi(message) {
  if (!message.includes('\x1b')) return [{ text: plainText(message), style: null }];
  const segments = [];
  const style = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false };
  let styled = false;
  let last = 0;
  const push = (text) => {
    if (text) segments.push({ text: visibleControls(text), style: styled ? { ...style } : null });
  };
  for (const match of message.matchAll(ESCAPE)) {
    push(message.slice(last, match.index));
    last = match.index + match[0].length;
    if (match[2] === 'm') {
      applySgr(style, match[1]);
      styled = Boolean(style.fg || style.bg || style.bold || style.dim || style.italic || style.underline || style.inverse);
    }
  }
  push(message.slice(last));
  return segments.length ? segments : [{ text: '', style: null }];
}

// The lightest background a terminal row gets (app.css .row.selected, #1b2d4a), for the
// contrast of RGB colours: readable there, they are on every other row too.
const ROW_BG_LUMINANCE = luminance(27, 45, 74);
const MIN_CONTRAST = 4.5;

function luminance(r, g, b) {
  const channel = (v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/**
 * An RGB text colour made readable on the terminal's dark rows (a selected one
 * included): a dark blue such as 256-colour 18 (0, 0, 135) is mixed towards white until
 * it reaches 4.5:1. Colours already readable are kept as they are.
 */
export function readableRgb(rgb) {
  const match = /rgb\((\d+), (\d+), (\d+)\)/.exec(rgb);
  if (!match) return rgb;
  let [r, g, b] = match.slice(1).map(Number);
  for (let step = 0; step < 20; step++) {
    if ((luminance(r, g, b) + 0.05) / (ROW_BG_LUMINANCE + 0.05) >= MIN_CONTRAST) break;
    [r, g, b] = [r, g, b].map((v) => Math.round(v + (255 - v) * 0.12));
  }
  return `rgb(${r}, ${g}, ${b})`;
}

/** Apply a segment's style to a span: classes for the 16 colours, CSSOM for the rest. */
export function styleSpan(span, style) {
  let fg = style.fg;
  let bg = style.bg;
  if (style.inverse) {
    [fg, bg] = [bg || { index: 'default-bg' }, fg || { index: 'default-fg' }];
  }
  if (fg?.index !== undefined) span.classList.add(`ansi-fg-${fg.index}`);
  else if (fg?.rgb) span.style.color = bg ? fg.rgb : readableRgb(fg.rgb); // on our background
  if (bg?.index !== undefined) span.classList.add(`ansi-bg-${bg.index}`);
  else if (bg?.rgb) span.style.backgroundColor = bg.rgb;
  if (style.bold) span.classList.add('ansi-bold');
  if (style.dim) span.classList.add('ansi-dim');
  if (style.italic) span.classList.add('ansi-italic');
  if (style.underline) span.classList.add('ansi-underline');
}
