// Snapshots of the running preview's data (…/preview/snapshots): save one, list them
// (newest first, with their tables' rows), restore one into the running app, compare
// one with the snapshot before it (shown in the file viewer), and delete one. Restore
// and Delete ask first (window.confirm, as a generation's Delete does); at the
// preview's limit of snapshots, Save says to delete one first and each has its Delete.

import * as api from './api.js';
import { $, formatBytes, h, setText, show, shownTime } from './dom.js';

const deleteSnapshot = (gid, sid) =>
  api.call('DELETE', `${api.previewPath(gid)}/snapshots/${encodeURIComponent(sid)}`);


function rows(snapshot) {
  const count = snapshot.tables.reduce((sum, table) => sum + table.rows, 0);
  const tables = snapshot.tables.length;
  return `${tables} table${tables === 1 ? '' : 's'}, ${count} row${count === 1 ? '' : 's'}`;
}

/** A diff's tables as text: one head line per table, then its rows (JSON). */
export function diffText(diff) {
  const lines = [];
  for (const table of diff.tables) {
    if (table.state === 'same') continue;
    const counts = `+${table.addedCount} −${table.removedCount} ~${table.changedCount}`;
    lines.push(`${table.database} ${table.table} (${table.state}): ${counts}`);
    for (const row of table.added) lines.push(`  + ${JSON.stringify(row)}`);
    for (const row of table.removed) lines.push(`  - ${JSON.stringify(row)}`);
    for (const change of table.changed) {
      lines.push(`  ~ ${JSON.stringify(change.before)} → ${JSON.stringify(change.after)}`);
    }
  }
  return lines.length ? lines.join('\n') : '(no row differs)';
}

export class SnapshotList {
  constructor({ viewer, onError }) {
    this.viewer = viewer;
    this.onError = onError;
    this.gid = null;
    $('snapshot-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.save();
    });
  }

  say(text) {
    setText($('snapshot-status'), text);
  }

  /** Another generation is shown: the last one's snapshots, what was said of them and
   * a name typed for its next one go at once. */
  forget(gid) {
    this.gid = gid;
    this.say('');
    $('snapshot-name').value = '';
    setText($('snapshots-count'), '');
    $('snapshot-list').replaceChildren();
  }

  /** The shown preview ended: "Restored …: the app runs with its data" no longer holds. */
  previewEnded() {
    if (/^Restored /.test($('snapshot-status').textContent)) this.say('');
  }

  async show(gid) {
    if (this.gid !== gid) this.forget(gid);
    this.gid = gid;
    show($('snapshots-card'), true);
    try {
      const { snapshots } = await api.snapshots(gid);
      if (this.gid !== gid) return;
      setText($('snapshots-count'), snapshots.length ? `(${snapshots.length})` : '');
      const newestFirst = [...snapshots].reverse();
      $('snapshot-list').replaceChildren(
        ...newestFirst.map((snapshot, index) => this.row(gid, snapshot, newestFirst[index + 1])),
      );
    } catch (error) {
      this.onError(error);
    }
  }

  hide() {
    this.gid = null;
    show($('snapshots-card'), false);
  }

  row(gid, snapshot, before) {
    const label = snapshot.name || snapshot.snapshotId;
    return h(
      'li',
      { 'data-snapshot': snapshot.snapshotId },
      h('span', { class: 'mono', text: label, title: `${shownTime(snapshot.createdAt)} · ${formatBytes(snapshot.sizeBytes)}` }),
      h('span', { class: 'hint', text: rows(snapshot) }),
      h('button', {
        type: 'button',
        class: 'button small',
        text: 'Restore',
        'aria-label': `Restore ${label}`,
        onclick: () => this.restore(gid, snapshot, label),
      }),
      h('button', {
        type: 'button',
        class: 'button small ghost',
        text: 'Diff',
        title: before ? 'What changed since the snapshot before' : 'The first snapshot',
        'aria-label': `Diff of ${label}`,
        disabled: before ? undefined : true,
        onclick: () => this.openDiff(gid, before, snapshot),
      }),
      h('button', {
        type: 'button',
        class: 'button small ghost danger-text',
        text: 'Delete',
        'aria-label': `Delete ${label}`,
        onclick: () => this.remove(gid, snapshot, label),
      }),
    );
  }

  async save() {
    const gid = this.gid;
    const name = $('snapshot-name').value.trim();
    this.say('Saving…');
    try {
      const saved = await api.saveSnapshot(gid, name || undefined);
      $('snapshot-name').value = '';
      this.say(`Saved ${saved.name || saved.snapshotId} (${formatBytes(saved.sizeBytes)}).`);
      await this.show(gid);
    } catch (error) {
      if (error.code !== 'snapshot_limit_reached') {
        this.say(error.message);
        return;
      }
      const most = error.details?.limit;
      this.say(
        `This preview keeps at most ${most ?? 'so many'} snapshots: delete one first ` +
          '(its Delete, below), then Save again.',
      );
      await this.show(gid);
      $('snapshot-list').querySelector('li:last-child button[aria-label^="Delete "]')?.focus();
    }
  }

  async remove(gid, snapshot, label) {
    const question = `Delete the snapshot ${label}? The data it saved is removed for good.`;
    if (!window.confirm(question)) return;
    this.say(`Deleting ${label}…`);
    try {
      await deleteSnapshot(gid, snapshot.snapshotId);
      this.say(`Deleted ${label}.`);
      await this.show(gid);
    } catch (error) {
      this.say(error.message);
    }
  }

  async restore(gid, snapshot, label) {
    const question =
      `Restore ${label}? The running app's data is replaced by the snapshot's: ` +
      'what it stored since is lost (save a snapshot first to keep it).';
    if (!window.confirm(question)) return;
    this.say(`Restoring ${label}…`);
    try {
      await api.restoreSnapshot(gid, snapshot.snapshotId);
      this.say(`Restored ${label}: the app runs with its data.`);
    } catch (error) {
      this.say(error.message);
    }
  }

  async openDiff(gid, before, after) {
    try {
      const diff = await api.snapshotDiff(gid, before.snapshotId, after.snapshotId);
      const title = `${after.name || after.snapshotId} (from ${before.name || before.snapshotId})`;
      const changed = diff.tables.filter((table) => table.state !== 'same').length;
      this.viewer.showText(title, `${changed} table${changed === 1 ? '' : 's'} changed`, diffText(diff));
    } catch (error) {
      this.onError(error);
    }
  }
}
