// A generation's revisions (POST …/revisions, `preview watch`): each with what it changed,
// and its diff from the one before, shown in the file viewer. Listed once it has more
// than its upload.

import * as api from './api.js';
import { $, h, setText, show } from './dom.js';

function when(iso) {
  return iso ? iso.replace('T', ' ').slice(0, 16) : '';
}

export class RevisionList {
  constructor({ viewer, onError }) {
    this.viewer = viewer;
    this.onError = onError;
    this.gid = null;
  }

  async show(gid) {
    this.gid = gid;
    show($('revisions-card'), false);
    try {
      const { revisions } = await api.revisions(gid);
      if (this.gid !== gid || revisions.length < 2) return;
      setText($('revisions-count'), `(${revisions.length})`);
      $('revision-list').replaceChildren(
        ...[...revisions].reverse().map((revision) => this.row(gid, revision)),
      );
      show($('revisions-card'), true);
    } catch (error) {
      this.onError(error);
    }
  }

  row(gid, revision) {
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
      h('span', { class: 'hint', text: when(revision.createdAt) }),
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
