// A generation's revisions (POST …/revisions, `preview watch`): each with what it changed,
// and its diff from the one before, shown in the file viewer. Listed once it has more
// than its upload. While a preview runs, the revision it runs is marked and any other
// has an Apply button (POST …/revisions/{n}/apply: swapped in live); the last swap's
// outcome stays below the list (a failure too: the old revision keeps serving). While
// its last preview has failed, each has a Relaunch button (the same call launches it
// again on that revision, as it was launched).

import * as api from './api.js';
import { $, h, setText, show, shownTime } from './dom.js';


export class RevisionList {
  constructor({ viewer, onError, onApplied, onRelaunched }) {
    this.viewer = viewer;
    this.onError = onError;
    this.onApplied = onApplied;
    this.onRelaunched = onRelaunched;
    this.gid = null;
    this.relaunchNote = null;
  }

  /** Another generation is shown: the last one's revisions and outcome go at once. */
  forget(gid) {
    this.gid = gid;
    this.relaunchNote = null; // what the last Relaunch here said, kept until a swap
    show($('revisions-card'), false);
    $('revision-list').replaceChildren();
    this.outcome('');
  }

  async show(gid) {
    if (this.gid !== gid) this.forget(gid);
    this.gid = gid;
    try {
      const [{ revisions }, preview] = await Promise.all([api.revisions(gid), this.preview(gid)]);
      if (this.gid !== gid) return;
      if (revisions.length < 2) {
        show($('revisions-card'), false);
        return;
      }
      const serving = preview?.status === 'running' ? preview.revision : null;
      const failed = preview?.status === 'failed';
      setText($('revisions-count'), `(${revisions.length})`);
      $('revision-list').replaceChildren(
        ...[...revisions].reverse().map((revision) => this.row(gid, revision, serving, failed)),
      );
      this.outcome((serving !== null && preview.lastApply?.message) || this.relaunchNote);
      show($('revisions-card'), true);
    } catch (error) {
      this.onError(error);
    }
  }

  /** Its preview's status, null if it has none (asked only when it has one: a 404 on
   * a page load is an error in the browser's console). */
  async preview(gid) {
    const generation = await api.getGeneration(gid);
    if (!generation.previewInstanceId) return null;
    try {
      return await api.status(gid);
    } catch (error) {
      if (error.status === 404) return null;
      throw error;
    }
  }

  outcome(message) {
    setText($('revision-outcome'), message || '');
    show($('revision-outcome'), Boolean(message));
  }

  async apply(gid, number, button) {
    button.disabled = true;
    this.outcome(`revision ${number}: applying…`);
    try {
      const answer = await api.applyRevision(gid, number);
      if (this.gid !== gid) return;
      if (answer.relaunched) {
        api.previewTokens.set(gid, answer.previewToken);
        this.relaunchNote = `revision ${number}: the preview had failed: relaunched on it`;
        this.outcome(this.relaunchNote);
        this.onRelaunched?.(gid);
        await this.show(gid);
        return;
      }
      this.outcome(answer.apply?.message);
      this.onApplied?.(gid);
      await this.show(gid);
    } catch (error) {
      button.disabled = false;
      this.outcome('');
      this.onError(error);
    }
  }

  row(gid, revision, serving, failed) {
    const count = revision.changed.length;
    const what = `${count} file${count === 1 ? '' : 's'}${revision.dependenciesChanged ? ', dependencies' : ''}`;
    const label = revision.revision === 1 ? 'upload' : what;
    return h(
      'li',
      { 'data-revision': String(revision.revision) },
      h('button', {
        type: 'button',
        class: 'file-open mono',
        text: `#${revision.revision} · ${label}`,
        title: revision.changed.join('\n'),
        'aria-label': `Diff of revision ${revision.revision}`,
        disabled: revision.revision === 1 ? true : undefined,
        onclick: () => this.openDiff(gid, revision.revision),
      }),
      h('span', { class: 'hint', text: shownTime(revision.createdAt) }),
      serving === revision.revision ? h('span', { class: 'hint', text: 'running' }) : null,
      serving !== null && serving !== revision.revision
        ? h('button', {
            type: 'button',
            class: 'button small ghost',
            text: 'Apply',
            'aria-label': `Apply revision ${revision.revision}`,
            title: 'Run this revision in the preview (swapped in once it answers)',
            onclick: (event) => this.apply(gid, revision.revision, event.currentTarget),
          })
        : null,
      failed
        ? h('button', {
            type: 'button',
            class: 'button small ghost',
            text: 'Relaunch',
            'aria-label': `Relaunch on revision ${revision.revision}`,
            title: 'Launch the failed preview again on this revision, as it was launched',
            onclick: (event) => this.apply(gid, revision.revision, event.currentTarget),
          })
        : null,
    );
  }

  async openDiff(gid, number) {
    try {
      const diff = await api.revisionDiff(gid, number);
      const hint = `${diff.changed.length} changed${diff.truncated ? ' (cut)' : ''}`;
      this.viewer.showText(`revision ${diff.to} (from ${diff.from})`, hint, diff.diff || '(no change)');
    } catch (error) {
      this.onError(error);
    }
  }
}
