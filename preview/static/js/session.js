// Signing in: the bearer token comes from the URL `preview serve` prints (`/#token=`:
// a fragment, which the browser never sends to any server or puts in a Referer)
// or is pasted. It is traded at once for the HttpOnly session cookie and forgotten:
// no script of any page can read a credential of this tab (not from storage, not from
// the cookie), and it leaves the address bar so it does not stay in the history. The
// cookie is renewed while the page is open, never past the token's own end.

import * as api from './api.js';

let renewal = null;

/** Take a `#token=` out of the address bar; the token, or null if there was none. */
export function takeTokenFromUrl() {
  const url = new URL(window.location.href);
  const fragment = new URLSearchParams(url.hash.slice(1));
  const token = fragment.get('token');
  if (!token) return null;
  fragment.delete('token');
  const rest = fragment.toString();
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${rest ? `#${rest}` : ''}`);
  return token.trim();
}

/** Renew the cookie at half its life, while this page is open. */
function keepRenewed(expiresIn) {
  clearTimeout(renewal);
  if (!(expiresIn > 0)) return;
  renewal = setTimeout(async () => {
    try {
      keepRenewed((await api.renewSession()).expiresIn);
    } catch {
      // Over (401: the sign-in shows) or unreachable: the next call says so.
    }
  }, Math.max(1000, (expiresIn * 1000) / 2));
}

/** The user of the session cookie this browser already has; throws ApiError (401). */
export async function openSession() {
  const user = await api.renewSession({ quiet401: true });
  keepRenewed(user.expiresIn);
  return user;
}

export async function signIn(token) {
  const user = await api.openSession(token.trim());
  keepRenewed(user.expiresIn);
  return user;
}

export async function signOut() {
  clearTimeout(renewal);
  try {
    await api.closeSession();
  } finally {
    sessionStorage.clear(); // preview tokens and request history of this tab
  }
}
