// A generation's file, read-only, above the preview (opened from the file list).

import * as api from './api.js';
import { $, formatBytes, setText, show } from './dom.js';

export class FileViewer {
  constructor({ onError }) {
    this.onError = onError;
    this.shown = null; // [gid, path]
    $('file-viewer-close').addEventListener('click', () => this.close());
  }

  async open(gid, path) {
    this.shown = [gid, path];
    try {
      const file = await api.generationFile(gid, path);
      if (this.shown?.[0] !== gid || this.shown?.[1] !== path) return;
      setText($('file-viewer-path'), file.path);
      setText($('file-viewer-size'), formatBytes(file.size));
      setText($('file-viewer-text'), file.binary ? '(a binary file: not shown)' : file.text);
      show($('file-viewer'), true);
      $('file-viewer').scrollIntoView({ block: 'nearest' });
      $('file-viewer-text').focus({ preventScroll: true });
    } catch (error) {
      this.onError(error);
    }
  }

  /** Text that is no file of the generation (a revision's diff), in the same place. */
  showText(title, hint, text) {
    this.shown = null;
    setText($('file-viewer-path'), title);
    setText($('file-viewer-size'), hint);
    setText($('file-viewer-text'), text);
    show($('file-viewer'), true);
    $('file-viewer').scrollIntoView({ block: 'nearest' });
  }

  close() {
    this.shown = null;
    show($('file-viewer'), false);
    setText($('file-viewer-text'), '');
  }
}
