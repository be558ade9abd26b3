// The generations column: upload (a folder read as text files, or an archive sent as
// is), the list of this user's generations, and the files of the selected one.

import * as api from './api.js';
import { $, formatBytes, h, setText, show } from './dom.js';

// Folders never worth uploading (the CLI's `preview push` skips the same ones).
const SKIP_DIRS = new Set(['.git', '__pycache__', '.venv', 'venv', 'node_modules', '.mypy_cache', '.ruff_cache', '.pytest_cache']);
const SNIFF_BYTES = 8192; // a NUL byte in the first 8 KiB marks a binary file
const SELECTED_KEY = 'preview.selected';

function archiveType(name, fallback) {
  const lower = name.toLowerCase();
  if (lower.endsWith('.zip')) return 'application/zip';
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'application/gzip';
  if (lower.endsWith('.tar')) return 'application/x-tar';
  return fallback || 'application/octet-stream';
}

/** `{path: text}` of a picked folder: paths relative to it, binary files left out. */
async function readFolder(fileList) {
  const files = {};
  const skipped = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const file of fileList) {
    const parts = (file.webkitRelativePath || file.name).split('/');
    const relative = parts.length > 1 ? parts.slice(1) : parts; // drop the folder's own name
    if (relative.slice(0, -1).some((part) => SKIP_DIRS.has(part))) continue;
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (bytes.subarray(0, SNIFF_BYTES).includes(0)) {
      skipped.push(relative.join('/'));
      continue;
    }
    try {
      files[relative.join('/')] = decoder.decode(bytes);
    } catch {
      skipped.push(relative.join('/')); // not UTF-8: not a text file
    }
  }
  return { files, skipped };
}

export class Generations {
  constructor({ onSelect, onError }) {
    this.onSelect = onSelect;
    this.onError = onError;
    this.selected = null;
    this.known = new Map(); // generationId -> its summary from the list
    this.list = $('generation-list');
    this.folder = $('upload-folder');
    this.archive = $('upload-archive');
    // One source at a time: picking a folder forgets the archive and the reverse.
    this.folder.addEventListener('change', () => { if (this.folder.files.length) this.archive.value = ''; });
    this.archive.addEventListener('change', () => { if (this.archive.files.length) this.folder.value = ''; });
    $('upload-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.upload();
    });
    $('generations-refresh').addEventListener('click', () => this.refresh());
  }

  async refresh() {
    try {
      const { generations } = await api.listGenerations();
      this.render(generations);
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
    this.list.replaceChildren(
      ...generations.map((generation) => {
        const current = generation.generationId === this.selected;
        const button = h(
          'button',
          {
            type: 'button',
            class: 'generation',
            'aria-current': current ? 'true' : undefined,
            dataset: { gid: generation.generationId },
            onclick: () => this.select(generation.generationId),
          },
          h('span', { class: 'generation-project', text: generation.projectId || '(no project id)' }),
          h('span', { class: 'generation-id mono', text: generation.generationId }),
          h('span', {
            class: 'hint',
            text: `${generation.fileCount} files · ${formatBytes(generation.totalBytes)} · ${new Date(generation.createdAt).toLocaleString()}`,
          }),
        );
        return h('li', {}, button);
      }),
    );
  }

  select(gid) {
    this.selected = gid;
    sessionStorage.setItem(SELECTED_KEY, gid);
    for (const button of this.list.querySelectorAll('button.generation')) {
      if (button.dataset.gid === gid) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
    this.onSelect(gid, this.known.get(gid));
    this.showFiles(gid);
  }

  async showFiles(gid) {
    show($('files-card'), false);
    try {
      const generation = await api.getGeneration(gid);
      if (this.selected !== gid) return;
      setText($('files-count'), `(${generation.files.length})`);
      $('file-list').replaceChildren(
        ...generation.files.map((file) =>
          h('li', {}, h('span', { class: 'mono', text: file.path }), h('span', { class: 'hint', text: formatBytes(file.size) })),
        ),
      );
      show($('files-card'), true);
    } catch (error) {
      this.onError(error);
    }
  }

  async upload() {
    const status = $('upload-status');
    const submit = $('upload-submit');
    const projectId = $('upload-project').value.trim();
    const archive = this.archive.files[0];
    if (!archive && !this.folder.files.length) {
      setText(status, 'Pick a folder or an archive first.');
      return;
    }
    submit.disabled = true;
    try {
      let created;
      let note = '';
      if (archive) {
        setText(status, `Uploading ${archive.name}…`);
        created = await api.uploadArchive(projectId, archive, archiveType(archive.name, archive.type));
      } else {
        setText(status, 'Reading the folder…');
        const { files, skipped } = await readFolder(this.folder.files);
        if (!Object.keys(files).length) throw new Error('The folder has no text file to upload.');
        if (skipped.length) note = ` (left out ${skipped.length} binary file${skipped.length > 1 ? 's' : ''})`;
        setText(status, `Uploading ${Object.keys(files).length} files…`);
        created = await api.uploadFiles(projectId, files);
      }
      setText(status, `Uploaded ${created.fileCount} files as ${created.generationId}${note}.`);
      this.folder.value = '';
      this.archive.value = '';
      await this.refresh();
      this.select(created.generationId);
    } catch (error) {
      setText(status, `Upload failed: ${error.message}`);
    } finally {
      submit.disabled = false;
    }
  }
}
