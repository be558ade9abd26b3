// The notice under the preview's header about its revisions swapped live (from here, by
// `preview watch` or the API): a swap shows in the status as another `revision` of the
// same running preview, and app tabs already open are said to show the old code until
// reloaded (another origin, opened without a handle: not ours to reload). One that
// failed to start changes only the status's `lastApply`: the notice says so for as long
// as the old revision serves (where one looks after a save, not only in the revisions
// card below the files).

import { $, setText, show } from './dom.js';

export class SwapNotice {
  /** `onSwapped(gid)`: another revision runs; `onApplyOutcome(gid)`: one failed. */
  constructor({ onSwapped, onApplyOutcome, onOpenApp }) {
    Object.assign(this, { onSwapped, onApplyOutcome });
    this.serving = null;
    $('reopen-app').addEventListener('click', () => onOpenApp());
  }

  reset() {
    this.serving = null;
    show($('swap-notice'), false);
  }

  /** The status `data` of preview `previewId` of generation `gid`, as it came. */
  update(gid, previewId, data) {
    const revision = data.status === 'running' ? (data.revision ?? null) : null;
    const last = data.status === 'running' ? data.lastApply : null;
    const apply = last ? `${last.revision} ${last.state}` : null;
    const before = this.serving;
    this.serving = { previewId, revision, apply };
    if (revision !== null && last?.state === 'failed' && last.revision !== revision) {
      const why = last.errorMessage ? `: ${last.errorMessage}` : '';
      this.say(`Revision ${last.revision} failed to start${why}. Revision ${revision} still serves.`, 'failed');
    } else if (revision === null || $('swap-notice').dataset.kind === 'failed') show($('swap-notice'), false);
    if (revision === null || before?.previewId !== previewId) return;
    if (before.revision === revision && apply !== null && before.apply !== apply) this.onApplyOutcome(gid);
    if (before.revision === null || before.revision === revision) return;
    this.say(`Revision ${revision} is live: app tabs already open show it once reloaded.`, 'live');
    this.onSwapped(gid);
  }

  say(text, kind) {
    const notice = $('swap-notice');
    setText($('swap-notice-text'), text);
    notice.dataset.kind = kind;
    show($('reopen-app'), kind === 'live');
    show(notice, true);
  }
}
