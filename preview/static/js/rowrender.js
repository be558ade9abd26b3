// One terminal row as DOM (the time, a quiet source tag, the message with ANSI colours
// and search marks), and the measure of how many characters a wrapped row holds.
// Text goes in as Text nodes only.

import { parseAnsi, styleSpan } from './ansi.js';

const TAGS = { stdout: 'out', stderr: 'err' };
const SOURCE_TAGS = { system: 'sys', build: 'build', proxy: 'proxy' };
// A worker's lines are tagged with its name (`process`), the web process's with the stream.
const appTag = (entry) => (entry.process ? entry.process : TAGS[entry.stream] || 'app');
const tagOf = (entry) => (entry.source === 'app' ? appTag(entry) : SOURCE_TAGS[entry.source] || entry.source);

export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso ?? '').slice(11, 23);
  const pad = (n, size = 2) => String(n).padStart(size, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** [start, end) of each match of `finder` (global, case-insensitive) in `text`. */
export function matchRanges(text, finder) {
  const ranges = [];
  finder.lastIndex = 0;
  let match;
  while (ranges.length < 200 && (match = finder.exec(text)) !== null) {
    ranges.push([match.index, match.index + match[0].length]);
  }
  return ranges;
}

/**
 * A row for `entry`: `selected`, `current` (the match in focus) and `wrapRows` (its
 * height in rows when wrapped, 1 otherwise) come from the view.
 */
export function renderRow(entry, { showTimestamps, finder, selected, current, wrapRows, rowHeight, superseded = false, restart = false }) {
  const row = document.createElement('div');
  row.className = `row lvl-${entry.level} src-${entry.source}${entry.stream ? ` stream-${entry.stream}` : ''}`;
  if (superseded) {
    row.classList.add('superseded');
    row.title = 'From an earlier attempt that failed: the service started it again since';
  }
  if (restart) row.classList.add('restart');
  if (selected) row.classList.add('selected');
  if (current) row.classList.add('current-match');
  row.dataset.id = String(entry.id);
  if (wrapRows > 1) row.style.height = `${wrapRows * rowHeight}px`;
  if (showTimestamps) {
    const time = document.createElement('span');
    time.className = 'ts';
    time.textContent = formatTime(entry.timestamp);
    row.append(time);
  }
  const tag = document.createElement('span');
  tag.className = 'tag';
  tag.textContent = tagOf(entry);
  if (entry.process) {
    tag.classList.add('tag-process');
    tag.title = `${entry.process} (${entry.stream || 'app'})`;
  }
  row.append(tag);
  const message = document.createElement('span');
  message.className = 'msg';
  const ranges = finder ? matchRanges(entry.plain, finder) : [];
  appendSegments(message, parseAnsi(entry.message), ranges);
  row.append(message);
  if (restart) {
    // The divider between a failed attempt and the next: what the lines above were.
    const fixed = /with the fix/.test(entry.plain);
    const note = document.createElement('span');
    note.className = 'restart-note';
    note.textContent = fixed ? 'fixed and started again: the lines above are the failed attempt’s' : 'started again: the lines above are the failed attempt’s';
    row.append(note);
  }
  return row;
}

/** Characters per row of a wrapped message in `rows` at its current width. */
export function measureCols(rows, showTimestamps) {
  const probe = document.createElement('div');
  probe.className = 'row';
  const ts = document.createElement('span');
  ts.className = 'ts';
  ts.textContent = '00:00:00.000';
  const tag = document.createElement('span');
  tag.className = 'tag';
  tag.textContent = 'out';
  const msg = document.createElement('span');
  msg.className = 'msg';
  msg.textContent = 'M';
  const ruler = document.createElement('span');
  ruler.textContent = 'M'.repeat(50);
  if (showTimestamps) probe.append(ts);
  probe.append(tag, msg);
  rows.append(probe, ruler);
  const width = msg.getBoundingClientRect().width;
  const charWidth = ruler.getBoundingClientRect().width / 50 || 7.5;
  probe.remove();
  ruler.remove();
  return Math.max(10, Math.floor(width / charWidth));
}

/** Append the ANSI segments, wrapping the parts inside `ranges` in <mark>. */
function appendSegments(parent, segments, ranges) {
  let offset = 0;
  let r = 0;
  for (const segment of segments) {
    const start = offset;
    const end = offset + segment.text.length;
    let position = start;
    while (position < end) {
      while (r < ranges.length && ranges[r][1] <= position) r++;
      const range = ranges[r];
      if (!range || range[0] >= end) {
        parent.append(piece(segment.text.slice(position - start), segment.style, false));
        break;
      }
      if (range[0] > position) {
        parent.append(piece(segment.text.slice(position - start, range[0] - start), segment.style, false));
        position = range[0];
      }
      const stop = Math.min(end, range[1]);
      parent.append(piece(segment.text.slice(position - start, stop - start), segment.style, true));
      position = stop;
    }
    offset = end;
  }
}

function piece(text, style, marked) {
  let node = document.createTextNode(text);
  if (style) {
    const span = document.createElement('span');
    styleSpan(span, style);
    span.append(node);
    node = span;
  }
  if (!marked) return node;
  const mark = document.createElement('mark');
  mark.append(node);
  return mark;
}
