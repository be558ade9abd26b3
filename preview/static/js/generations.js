// The generations column: upload (a folder's files sent as `preview push` sends them,
// or an archive sent as is), the list of this user's generations, and the files of the
// selected one.

import * as api from './api.js';
import { $, counted, formatBytes, h, setText, show } from './dom.js';
import { NewestAnswer, SUPERSEDED } from './newest.js';
import { folderMatcher, skippedFolderMarkers, skippedFolders } from './uploadrules.js';
import { zipStored } from './zipstore.js';

const SELECTED_KEY = 'preview.selected';

function archiveType(name, fallback) {
  const lower = name.toLowerCase();
  if (lower.endsWith('.zip')) return 'application/zip';
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'application/gzip';
  if (lower.endsWith('.tar')) return 'application/x-tar';
  return fallback || 'application/octet-stream';
}

/** `{path: bytes}` of a folder's files (`[relativePath, File]`) that `preview push` and
 * `preview watch` would send (uploadrules.js), binary ones too, and what was left out:
 * files in skipped `folders` (`inFolders` of them, for a picked folder: a dropped one's
 * are not walked: `pruned`), files its `.gitignore` files ignore (`ignored`: their paths,
 * and how many `.gitignore` files it has: `rules`). */
async function readFolder(entries, pruned = []) {
  const skip = await skippedFolders();
  const markers = await skippedFolderMarkers();
  const relativeOf = (path) => {
    const parts = path.split('/');
    return parts.length > 1 ? parts.slice(1) : parts; // drop the folder's own name
  };
  const marked = new Set(); // folders ('a/env') holding a marker: a virtualenv
  for (const [path] of entries) {
    const relative = relativeOf(path);
    if (relative.length > 1 && markers.has(relative[relative.length - 1])) marked.add(relative.slice(0, -1).join('/'));
  }
  const inSkipped = (relative) => {
    const named = relative.slice(0, -1).find((part) => skip.has(part));
    if (named !== undefined) return named;
    for (let depth = 1; depth < relative.length; depth += 1) {
      const folder = relative.slice(0, depth).join('/');
      if (marked.has(folder)) return folder;
    }
    return undefined;
  };
  const rules = new Map(); // folder ('' the top) -> its .gitignore's text
  for (const [path, file] of entries) {
    const relative = relativeOf(path);
    if (relative[relative.length - 1] === '.gitignore' && inSkipped(relative) === undefined) {
      rules.set(relative.slice(0, -1).join('/'), await file.text());
    }
  }
  const ignores = folderMatcher(rules);
  const files = {};
  const folders = new Set(pruned);
  let inFolders = 0;
  const ignored = [];
  for (const [path, file] of entries) {
    const relative = relativeOf(path);
    const folder = inSkipped(relative);
    if (folder !== undefined) {
      folders.add(folder);
      inFolders += 1;
      continue;
    }
    if (ignores(relative.join('/'))) {
      ignored.push(relative.join('/'));
      continue;
    }
    files[relative.join('/')] = new Uint8Array(await file.arrayBuffer()); // as they are
  }
  return { files, skipped: { folders: [...folders].sort(), inFolders, ignored, rules: rules.size } };
}

/** What a folder's upload left out, in words ('' for nothing). */
function leftOut({ skipped }) {
  const said = [];
  if (skipped.folders.length) {
    const where = skipped.folders.map((folder) => `${folder}/`).join(', ');
    said.push(skipped.inFolders ? `${counted(skipped.inFolders, 'file')} in ${where}` : `the folders ${where}`);
  }
  if (skipped.ignored.length) {
    // Named (the first few): a .gitignore'd .env is often why a preview then lacks its
    // configuration.
    const which = skipped.rules > 1 ? 'its .gitignore files ignore' : 'its .gitignore ignores';
    said.push(`${counted(skipped.ignored.length, 'file')} ${which}: ${someOf(skipped.ignored)}`);
  }
  return said.length ? ` (skipped ${said.join(' and ')})` : '';
}

/** The first `shown` of `names` (sorted), then how many more: 'a, b and 3 more'. */
function someOf(names, shown = 3) {
  const sorted = [...names].sort();
  const first = sorted.slice(0, shown);
  const rest = sorted.length - first.length;
  if (rest) return `${first.join(', ')} and ${rest} more`;
  return first.length > 1 ? `${first.slice(0, -1).join(', ')} and ${first[first.length - 1]}` : first[0];
}

const picked = (fileList) => [...fileList].map((file) => [file.webkitRelativePath || file.name, file]);

/** Every file under a dropped folder entry, as `[path from the folder, File]`, but in
 * the folders never sent (`skip`: their names; `markers`: files that make the folder
 * holding them one; not walked, their names added to `pruned`). */
async function walkEntry(entry, { skip, markers }, pruned, prefix = '') {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    return [[`${prefix}${entry.name}`, file]];
  }
  if (prefix && skip.has(entry.name)) {
    pruned.add(entry.name);
    return [];
  }
  const reader = entry.createReader();
  const children = [];
  for (;;) {
    // readEntries answers in batches (100 in Chromium) until an empty one.
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) break;
    children.push(...batch);
  }
  if (prefix && children.some((child) => child.isFile && markers.has(child.name))) {
    pruned.add(`${prefix.split('/').slice(1).join('/')}${entry.name}`);
    return [];
  }
  const found = [];
  for (const child of children) found.push(...(await walkEntry(child, { skip, markers }, pruned, `${prefix}${entry.name}/`)));
  return found;
}

/** "2026-11-21 14:03" in local time: unambiguous whatever the locale. */
export function formatWhen(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export class Generations {
  constructor({ onSelect, onError, onRenamed = () => {}, onDeleted = () => {}, onOpenFile = () => {}, onReveal = () => {}, mayLeave = () => true }) {
    Object.assign(this, { onSelect, onError, onRenamed, onDeleted, onOpenFile, onReveal, mayLeave });
    this.selected = null;
    this.uploadedGid = null; // the generation the upload card's "Uploaded …" speaks of
    this.known = new Map(); // generationId -> its summary from the list
    this.list = $('generation-list');
    this.items = new Map(); // gid -> its elements in the list (item(), fill())
    this.listed = new NewestAnswer(); // the list's requests (a stop's and a delete's cross)
    this.folder = $('upload-folder');
    this.archive = $('upload-archive');
    this.dropped = null; // {folder: [[path, File]]} or {archive: File} from a drop
    // One source at a time: picking a folder forgets the archive and the reverse.
    this.folder.addEventListener('change', () => {
      if (this.folder.files.length) this.archive.value = '';
      this.dropped = null;
      this.showPicked();
    });
    this.archive.addEventListener('change', () => {
      if (this.archive.files.length) this.folder.value = '';
      this.dropped = null;
      this.showPicked();
    });
    const zone = $('drop-zone');
    zone.addEventListener('dragover', (event) => {
      event.preventDefault();
      zone.classList.add('dragging');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      zone.classList.remove('dragging');
      this.drop(event.dataTransfer);
    });
    $('upload-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.upload();
    });
    $('generations-refresh').addEventListener('click', () => this.refresh());
  }

  /** What a generation is called: its name, else its project id, else its id. */
  nameOf(gid) {
    const summary = this.known.get(gid);
    return summary?.name || summary?.projectId || gid;
  }

  async refresh() {
    try {
      const answer = await this.listed.of(api.listGenerations());
      if (answer === SUPERSEDED) return;
      this.render(answer.generations);
      // After a reload, show the generation this tab was looking at.
      const remembered = sessionStorage.getItem(SELECTED_KEY);
      if (!this.selected && remembered && this.known.has(remembered)) this.select(remembered);
    } catch (error) {
      this.onError(error);
    }
  }

  render(generations) {
    this.known = new Map(generations.map((generation) => [generation.generationId, generation]));
    show($('generations-empty'), generations.length === 0);
    // Each generation keeps its elements across refreshes, updated in place: a list
    // rebuilt while the user clicks it (a refresh on a preview's end) lost the click,
    // its button gone between the press and the release.
    const items = new Map();
    for (const generation of generations) {
      const gid = generation.generationId;
      const item = this.items.get(gid) ?? this.item(gid);
      this.fill(item, generation);
      items.set(gid, item);
    }
    this.items = items;
    const wanted = [...items.values()].map((item) => item.li);
    const present = [...this.list.children];
    if (wanted.length !== present.length || wanted.some((li, i) => li !== present[i])) {
      this.list.replaceChildren(...wanted);
    }
  }

  /** A generation's elements in the list, filled in by fill(). */
  item(gid) {
    const item = {
      name: h('span', { class: 'generation-project' }),
      badge: h('span', { class: 'badge small' }),
      hint: h('span', { class: 'hint' }),
      rename: h('button', { type: 'button', class: 'button small ghost', text: 'Rename', onclick: () => this.rename(gid) }),
      remove: h('button', { type: 'button', class: 'button small ghost danger-text', text: 'Delete', onclick: () => this.remove(gid) }),
    };
    item.button = h(
      'button',
      { type: 'button', class: 'generation', dataset: { gid }, onclick: () => this.select(gid, { reveal: true }) },
      h('span', { class: 'generation-head' }, item.name, item.badge),
      h('span', { class: 'generation-id mono', text: gid }),
      item.hint,
    );
    item.li = h('li', { class: 'generation-item' }, item.button, h('span', { class: 'generation-actions' }, item.rename, item.remove));
    return item;
  }

  fill(item, generation) {
    const gid = generation.generationId;
    const name = this.nameOf(gid);
    const when = generation.lastLaunchAt ? `launched ${formatWhen(generation.lastLaunchAt)}` : 'never launched';
    setText(item.name, name);
    item.badge.dataset.status = generation.status || 'new';
    setText(item.badge, generation.status || 'not launched');
    setText(item.hint, `${when} · ${counted(generation.fileCount, 'file')} · ${formatBytes(generation.totalBytes)}`);
    if (gid === this.selected) item.button.setAttribute('aria-current', 'true');
    else item.button.removeAttribute('aria-current');
    item.rename.setAttribute('aria-label', `Rename ${name}`);
    item.remove.setAttribute('aria-label', `Delete ${name}`);
  }

  async rename(gid) {
    const name = window.prompt('New name (empty: its id)', this.known.get(gid)?.projectId || '');
    if (name === null) return;
    try {
      await api.renameGeneration(gid, name.trim());
      await this.refresh();
      if (gid === this.selected) this.onRenamed(gid, this.nameOf(gid));
    } catch (error) {
      this.onError(error);
    }
  }

  async remove(gid) {
    const name = this.nameOf(gid);
    const running = this.known.get(gid)?.status === 'running' || this.known.get(gid)?.status === 'starting';
    const question = `Delete ${name}? ${running ? 'Its preview is stopped, and its' : 'Its'} files and the history of its previews are removed for good.`;
    if (!window.confirm(question)) return;
    try {
      await api.deleteGeneration(gid);
      if (gid === this.selected) {
        this.selected = null;
        sessionStorage.removeItem(SELECTED_KEY);
        this.onDeleted(gid);
        show($('files-card'), false);
      }
      await this.refresh();
    } catch (error) {
      this.onError(error);
    }
  }

  /** Another generation is shown: "Uploaded 3 files as gen_…" speaks of another one, and
   * goes (an upload under way, or a failed one, is the card's own and stays). */
  forget(gid) {
    if (this.uploadedGid === null || this.uploadedGid === gid) return;
    this.uploadedGid = null;
    setText($('upload-status'), '');
  }

  select(gid, { reveal = false } = {}) {
    // An edit not saved in the file viewer is the user's to keep or drop, before the page
    // shows another generation (refused: this one stays shown, edit and all).
    if (gid !== this.selected && !this.mayLeave()) return;
    this.selected = gid;
    sessionStorage.setItem(SELECTED_KEY, gid);
    for (const button of this.list.querySelectorAll('button.generation')) {
      if (button.dataset.gid === gid) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
    this.onSelect(gid, this.known.get(gid), reveal);
    // The file list above the workspace (stacked layout) changes its height: reveal after.
    this.showFiles(gid).then(() => {
      if (reveal && this.selected === gid) this.onReveal(gid);
    });
  }

  async showFiles(gid) {
    show($('files-card'), false);
    try {
      const generation = await api.getGeneration(gid);
      if (this.selected !== gid) return;
      setText($('files-count'), `(${generation.files.length})`);
      $('file-list').replaceChildren(
        ...generation.files.map((file) =>
          h(
            'li',
            {},
            h('button', {
              type: 'button',
              class: 'file-open mono',
              text: file.path,
              'aria-label': `View ${file.path}`,
              onclick: () => this.onOpenFile(gid, file.path),
            }),
            h('span', { class: 'hint', text: formatBytes(file.size) }),
          ),
        ),
      );
      show($('files-card'), true);
    } catch (error) {
      this.onError(error);
    }
  }

  /** A drop: one archive file, or a folder (read through its entries), then uploaded. */
  async drop(transfer) {
    const entries = [...(transfer.items || [])].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
    this.folder.value = '';
    this.archive.value = '';
    const folder = entries.find((entry) => entry.isDirectory);
    if (folder) {
      const pruned = new Set();
      try {
        this.dropped = { folder: await walkEntry(folder, { skip: await skippedFolders(), markers: await skippedFolderMarkers() }, pruned), name: folder.name, pruned: [...pruned] };
      } catch (error) {
        setText($('upload-status'), `Upload failed: ${error.message}`);
        return;
      }
    } else if (transfer.files.length === 1) {
      this.dropped = { archive: transfer.files[0], name: transfer.files[0].name };
    } else {
      setText($('upload-status'), 'Drop one folder or one archive.');
      return;
    }
    this.showPicked();
    await this.upload();
  }

  showPicked() {
    let text = 'Nothing chosen (.zip, .tar.gz or a folder)';
    if (this.dropped) text = `Dropped: ${this.dropped.name}`;
    else if (this.archive.files.length) text = `Archive: ${this.archive.files[0].name}`;
    else if (this.folder.files.length) {
      const first = this.folder.files[0].webkitRelativePath.split('/')[0];
      text = `Folder: ${first} (${this.folder.files.length} files)`;
    }
    setText($('upload-picked'), text);
  }

  async upload() {
    const status = $('upload-status');
    const submit = $('upload-submit');
    const archive = this.dropped?.archive || this.archive.files[0];
    const folder = this.dropped?.folder || (this.folder.files.length ? picked(this.folder.files) : null);
    // Named as the user typed, else after the folder or the archive (without its extension).
    const folderName = this.dropped?.folder ? this.dropped.name : this.folder.files[0]?.webkitRelativePath.split('/')[0];
    const projectId = $('upload-project').value.trim()
      || (archive ? archive.name.replace(/\.(zip|tar\.gz|tgz|tar)$/i, '') : folderName) || '';
    if (!archive && !folder) {
      setText(status, 'Pick a folder or an archive first.');
      return;
    }
    submit.disabled = true;
    this.uploadedGid = null;
    try {
      let created;
      let note = '';
      if (archive) {
        setText(status, `Uploading ${archive.name}…`);
        created = await api.uploadArchive(projectId, archive, archiveType(archive.name, archive.type));
      } else {
        setText(status, 'Reading the folder…');
        const read = await readFolder(folder, this.dropped?.pruned);
        note = leftOut(read);
        const entries = Object.entries(read.files);
        if (!entries.length) throw new Error(`The folder has no file to upload${note}.`);
        setText(status, `Uploading ${counted(entries.length, 'file')}…`);
        // As `preview push` sends a folder: a zip of its files as they are (binary ones
        // too: images, a seeded database; a text file's byte-order mark kept).
        created = await api.uploadArchive(projectId, zipStored(entries), 'application/zip');
      }
      this.uploadedGid = created.generationId;
      // The name was this upload's: the next one is named after its own folder or archive.
      $('upload-project').value = '';
      this.folder.value = '';
      this.archive.value = '';
      this.dropped = null;
      this.showPicked();
      const shown = this.selected;
      await this.refresh();
      // Shown, unless the user chose another generation while the list was read again
      // (their choice stays: selected after it, the upload took it back).
      if (this.selected === shown) this.select(created.generationId);
      // Said once the list has it: a click on another generation after these words is
      // never undone by the upload's own selection (one before them made it forgotten).
      if (this.uploadedGid === created.generationId) setText(status, `Uploaded ${counted(created.fileCount, 'file')} as ${created.generationId}${note}.`);
    } catch (error) {
      setText(status, `Upload failed: ${error.message}`);
    } finally {
      submit.disabled = false;
    }
  }
}
