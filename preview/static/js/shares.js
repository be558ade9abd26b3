// Sharing a generation (issue 69): its owner shares it with a user id or makes a link,
// as a viewer (watch) or a caller (also call the app), for a chosen time; the live shares
// are listed with a Revoke each. A link's URL is shown once, as the service answers it
// (only its hash is kept there); the user who opens it signs in and it is theirs.

import * as api from './api.js';
import { $, counted, h, setText, show, shownTime } from './dom.js';


function describe(share) {
  const who = share.kind === 'link' ? 'a link' : share.kind === 'redeemed' ? `${share.user} (by the link)` : share.user;
  return `${who}: ${share.role}, until ${shownTime(share.expiresAt)} UTC`;
}

export class ShareCard {
  constructor({ onError }) {
    this.onError = onError;
    this.gid = null;
    $('share-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.share();
    });
  }

  say(text) {
    setText($('share-status'), text);
  }

  /** Another generation is shown: nothing of the last one's shares stays. */
  forget(gid) {
    this.gid = gid;
    this.say('');
    $('share-user').value = '';
    $('share-link-url').value = '';
    show($('share-link'), false);
    setText($('share-count'), '');
    $('share-list').replaceChildren();
  }

  hide() {
    show($('share-card'), false);
  }

  async show(gid) {
    if (this.gid !== gid) this.forget(gid);
    show($('share-card'), true);
    let listed;
    try {
      listed = (await api.shares(gid)).shares;
    } catch (error) {
      if (this.gid === gid) this.onError(error);
      return;
    }
    if (this.gid !== gid) return;
    setText($('share-count'), listed.length ? `(${listed.length})` : '');
    $('share-list').replaceChildren(
      ...listed.map((share) =>
        h(
          'li',
          { class: 'share-row', dataset: { share: share.id } },
          h('span', { text: describe(share) }),
          h('button', {
            type: 'button',
            class: 'button small ghost',
            text: 'Revoke',
            'aria-label': `Revoke ${describe(share)}`,
            onclick: () => this.revoke(gid, share),
          }),
        ),
      ),
    );
  }

  async share() {
    const gid = this.gid;
    const user = $('share-user').value.trim();
    const body = { role: $('share-role').value, expiresIn: Number($('share-expiry').value) };
    if (user) body.user = user;
    else body.link = true;
    try {
      const made = await api.share(gid, body);
      if (gid !== this.gid) return;
      $('share-user').value = '';
      if (made.url) {
        $('share-link-url').value = made.url; // shown this once
        show($('share-link'), true);
        this.say('Link made: whoever opens it signs in and may watch.');
      } else {
        show($('share-link'), false);
        this.say(`Shared with ${made.user} as a ${made.role}.`);
      }
    } catch (error) {
      if (gid === this.gid) this.say(error.message);
      return;
    }
    await this.show(gid);
  }

  async revoke(gid, share) {
    try {
      const revoked = await api.revokeShare(gid, share.id);
      if (gid !== this.gid) return;
      this.say(`Revoked: ${counted(revoked.ended.length, 'share')} ended.`);
    } catch (error) {
      if (gid === this.gid) this.say(error.message);
    }
    await this.show(gid);
  }
}
