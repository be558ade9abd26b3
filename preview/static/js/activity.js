// The generation's activity (issue 69, the audit trail's page): what was done to it and
// its previews, by whom and when, newest first, read from GET /api/audit when the card
// is opened (and again at each opening), "Older" for the next page. Each entry's details
// are the service's own (names and counts, never a secret's value).

import * as api from './api.js';
import { $, h, setText, show, shownTime } from './dom.js';

const WORDS = {
  upload: 'uploaded',
  rename: 'renamed',
  delete: 'deleted',
  launch: 'launched',
  stop: 'stopped',
  revision: 'made a revision',
  revision_apply: 'applied a revision',
  snapshot_take: 'saved a snapshot',
  snapshot_restore: 'restored a snapshot',
  snapshot_delete: 'deleted a snapshot',
  share_create: 'shared it',
  share_redeem: 'took a shared link',
  share_revoke: 'revoked a share',
  preset_put: 'saved a preset',
  preset_delete: 'deleted a preset',
  alert_create: 'made an alert rule',
  alert_delete: 'deleted an alert rule',
  annotation_add: 'pinned a note',
  annotation_delete: 'removed a note',
  replay: 'replayed requests',
  volatile_paths: 'marked volatile paths',
  token: 'made a preview token',
  token_revoke: 'revoked a preview token',
};


function detailsText(details) {
  return Object.entries(details || {})
    .filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([key, value]) => `${key} ${typeof value === 'object' ? JSON.stringify(value) : value}`)
    .join(', ');
}

export class ActivityCard {
  constructor({ onError }) {
    this.onError = onError;
    this.gid = null;
    this.before = null; // the next page's start (nextBefore)
    this.details = $('activity-details');
    this.details.addEventListener('toggle', () => {
      if (this.details.open) this.load(true);
    });
    $('activity-more').addEventListener('click', () => this.load(false));
  }

  /** Another generation is shown: nothing of the last one's activity stays. */
  forget(gid) {
    this.gid = gid;
    this.before = null;
    $('activity-list').replaceChildren();
    show($('activity-more'), false);
    setText($('activity-status'), '');
  }

  hide() {
    show($('activity-card'), false);
  }

  show(gid) {
    if (this.gid !== gid) this.forget(gid);
    show($('activity-card'), true);
    if (this.details.open) this.load(true);
  }

  /** The newest page (`fresh`), or the next older one. */
  async load(fresh) {
    const gid = this.gid;
    if (!gid) return;
    let page;
    try {
      page = await api.audit(gid, { before: fresh ? undefined : this.before });
    } catch (error) {
      if (this.gid === gid) this.onError(error);
      return;
    }
    if (this.gid !== gid) return;
    const rows = page.entries.map((entry) =>
      h(
        'li',
        { dataset: { action: entry.action } },
        h('span', { class: 'hint mono', text: shownTime(entry.at, { seconds: true }) }),
        ' ',
        h('strong', { text: entry.actor }),
        ' ',
        WORDS[entry.action] || entry.action,
        entry.previewId ? h('span', { class: 'hint mono', text: ` ${entry.previewId}` }) : null,
        detailsText(entry.details) ? h('span', { class: 'hint', text: ` (${detailsText(entry.details)})` }) : null,
      ),
    );
    if (fresh) $('activity-list').replaceChildren(...rows);
    else $('activity-list').append(...rows);
    this.before = page.hasMore ? page.nextBefore : null;
    show($('activity-more'), page.hasMore);
    setText($('activity-status'), fresh && rows.length === 0 ? 'Nothing yet.' : '');
  }
}
