// A generation's file above the preview (opened from the file list): read, or edited and
// saved as a new revision (POST …/revisions), which a running preview takes live, as a
// save under `preview watch` does.

import * as api from './api.js';
import { $, formatBytes, setText, show } from './dom.js';

/** What a save's answer means for the user, in one sentence. */
function savedText(answer) {
  if (answer.unchanged) return 'Nothing changed: not saved again.';
  const saved = `Saved as revision ${answer.revision}`;
  if (answer.relaunched) return `${saved}: its preview starts again on it.`;
  if (answer.relaunch) return `${saved}; its preview was not started again: ${answer.relaunch.message}`;
  const apply = answer.apply;
  if (answer.applied) return `${saved}: the running preview runs it now.`;
  if (apply?.state === 'applying') return `${saved}: being applied (the log says when it runs).`;
  if (apply?.state === 'failed') {
    return `${saved}, but it did not start: ${apply.message} The previous revision keeps serving.`;
  }
  return `${saved}: launch the preview to run it.`;
}

export class FileViewer {
  constructor({ onError, onSaved = () => {} }) {
    this.onError = onError;
    this.onSaved = onSaved; // (gid, the revision's answer)
    this.shown = null; // [gid, path]
    this.text = null; // the shown file's text (null: a binary file, or no file)
    this.saved = null; // the last save's revision number, while its outcome is shown
    this.editor = $('file-viewer-editor');
    $('file-viewer-close').addEventListener('click', () => this.close());
    $('file-viewer-edit').addEventListener('click', () => this.edit());
    $('file-viewer-cancel').addEventListener('click', () => this.setEditing(false));
    $('file-viewer-save').addEventListener('click', () => this.save());
    this.editor.addEventListener('keydown', (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === 's') {
        event.preventDefault(); // the browser's "save page"
        this.save();
      }
    });
  }

  async open(gid, path) {
    if (!this.mayLeave()) return;
    this.shown = [gid, path];
    this.text = null;
    this.setEditing(false);
    try {
      const file = await api.generationFile(gid, path);
      if (this.shown?.[0] !== gid || this.shown?.[1] !== path) return;
      this.text = file.binary ? null : file.text;
      setText($('file-viewer-path'), file.path);
      setText($('file-viewer-size'), formatBytes(file.size));
      setText($('file-viewer-text'), file.binary ? '(a binary file: not shown)' : file.text);
      this.setEditing(false);
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
    this.text = null;
    this.setEditing(false);
    setText($('file-viewer-path'), title);
    setText($('file-viewer-size'), hint);
    setText($('file-viewer-text'), text);
    show($('file-viewer'), true);
    $('file-viewer').scrollIntoView({ block: 'nearest' });
  }

  edit() {
    if (this.text === null) return;
    this.saved = null;
    this.editor.value = this.text;
    this.setEditing(true);
    this.editor.focus();
  }

  /** The editor or the text shown, with the buttons that go with it. */
  setEditing(editing) {
    show(this.editor, editing);
    show($('file-viewer-text'), !editing);
    show($('file-viewer-save'), editing);
    show($('file-viewer-cancel'), editing);
    show($('file-viewer-edit'), !editing && this.shown !== null && this.text !== null);
    if (editing) setText($('file-viewer-status'), '');
  }

  async save() {
    if (!this.shown || this.editor.hidden) return;
    const [gid, path] = this.shown;
    const text = this.editor.value;
    const button = $('file-viewer-save');
    button.disabled = true;
    setText($('file-viewer-status'), 'Saving…');
    try {
      // The answer waits for a running preview to take it (up to 30 s, as the API says).
      const answer = await api.saveFiles(gid, { [path]: text });
      if (this.shown?.[0] === gid && this.shown?.[1] === path) {
        this.text = text;
        setText($('file-viewer-text'), text);
        setText($('file-viewer-size'), formatBytes(new Blob([text]).size));
        this.setEditing(false);
        setText($('file-viewer-status'), savedText(answer));
        this.saved = answer.unchanged ? null : answer.revision;
      }
      this.onSaved(gid, answer);
    } catch (error) {
      // Kept in the editor: nothing typed is lost to a refusal (a limit, the service away).
      setText($('file-viewer-status'), `Not saved: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  }

  /** Whether what the editor holds may go: unchanged, or the user says so. */
  mayLeave() {
    if (this.editor.hidden || this.editor.value === this.text) return true;
    return window.confirm(`Discard your changes to ${this.shown?.[1] ?? 'the file'}?`);
  }

  /** Another generation is shown (the user agreed to leave an edit first: mayLeave). */
  forget() {
    this.editor.value = this.text ?? '';
    this.close();
  }

  /** The shown preview ended: a save's outcome that spoke of it running ("…runs it
   * now", "being applied") no longer holds; what stays true is that it was saved. */
  previewEnded() {
    if (this.saved === null) return;
    setText($('file-viewer-status'), `Saved as revision ${this.saved}.`);
    this.saved = null;
  }

  close() {
    if (!this.mayLeave()) return;
    this.saved = null;
    this.shown = null;
    this.text = null;
    this.setEditing(false);
    show($('file-viewer'), false);
    setText($('file-viewer-text'), '');
    setText($('file-viewer-status'), '');
  }
}
