// Signing in: the bearer token comes from the URL `preview serve` prints (`/#token=`:
// a fragment, which the browser never sends to any server or puts in a Referer)
// or is pasted. It is exchanged at once for the HttpOnly session cookie (for
// EventSource and downloads), kept in sessionStorage for the API calls, and removed
// from the address bar so it does not stay in the history or get copied around.

import * as api from './api.js';

/** Move a `#token=` from the address bar into sessionStorage; true if there was one. */
export function takeTokenFromUrl() {
  const url = new URL(window.location.href);
  const fragment = new URLSearchParams(url.hash.slice(1));
  const token = fragment.get('token');
  if (!token) return false;
  api.bearer.set(token.trim());
  fragment.delete('token');
  const rest = fragment.toString();
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${rest ? `#${rest}` : ''}`);
  return true;
}

/** Open the session with the stored bearer token; the user, or throws ApiError. */
export async function openSession() {
  return api.openSession();
}

export async function signIn(token) {
  api.bearer.set(token.trim());
  try {
    return await api.openSession();
  } catch (error) {
    api.bearer.clear();
    throw error;
  }
}

export async function signOut() {
  try {
    await api.closeSession();
  } finally {
    sessionStorage.clear(); // the bearer, preview tokens and request history of this tab
  }
}
