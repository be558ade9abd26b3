// The service's HTTP API, as used by this page. The page keeps no bearer token: it is
// traded once for the HttpOnly session cookie (which no script can read), and every
// call goes with that cookie and the X-Preview-CSRF header, which the service asks of
// a cookie's calls that change something (another site's page cannot send it).

const PREVIEW_TOKEN_PREFIX = 'preview.token.';
const CSRF_HEADER = 'X-Preview-CSRF';
// Marks the page's own repeated status polls: the service's access log puts their
// successful answers at debug level, or they are a third of its terminal.
const POLL_HEADER = 'X-Preview-Poll';

/** The preview token shown once at launch, kept per generation for this tab. */
export const previewTokens = {
  get: (gid) => sessionStorage.getItem(PREVIEW_TOKEN_PREFIX + gid),
  set: (gid, token) => sessionStorage.setItem(PREVIEW_TOKEN_PREFIX + gid, token),
  clear: (gid) => sessionStorage.removeItem(PREVIEW_TOKEN_PREFIX + gid),
};

/** An error answer of the API: `{status: "failed", error, message, details}`. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error || 'http_error';
    this.details = body?.details || {};
  }
}

let reachabilityHandler = () => {};
/** Called with false when a call cannot reach the service, true when one does again. */
export function onReachability(handler) {
  reachabilityHandler = handler;
}

/** Whether the service answers at all (a static file: no auth, no database). */
export async function reachable() {
  try {
    const response = await fetch('/static/favicon.svg', { cache: 'no-store' });
    return response.ok;
  } catch {
    return false;
  }
}

let unauthorizedHandler = () => {};
/** Called with the error whenever the service answers 401 (the token expired). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

export async function call(method, path, { json, body, headers = {}, quiet401 = false, poll = false } = {}) {
  const sent = { Accept: 'application/json', [CSRF_HEADER]: '1', ...headers };
  if (poll) sent[POLL_HEADER] = '1';
  let payload = body;
  if (json !== undefined) {
    sent['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers: sent, body: payload, credentials: 'same-origin' });
  } catch (error) {
    reachabilityHandler(false);
    throw new ApiError(0, { error: 'network_error', message: `The service is unreachable (${error.message}).` });
  }
  reachabilityHandler(true);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text.slice(0, 300) };
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !quiet401) unauthorizedHandler(error);
    throw error;
  }
  return data;
}

const enc = encodeURIComponent;
export const generationPath = (gid) => `/api/generations/${enc(gid)}`;
export const previewPath = (gid) => `${generationPath(gid)}/preview`;

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Trade a bearer token for the session cookie (the token is not kept); the user. */
export const openSession = (token) =>
  call('POST', '/api/session', { headers: { Authorization: `Bearer ${token}` } });
/**
 * A fresh session cookie for the one in use (never past the token it was opened with);
 * the user. `quiet401`: a 401 is the caller's to handle (no cookie yet is no error).
 */
export const renewSession = ({ quiet401 = false } = {}) => call('POST', '/api/session', { quiet401 });
export const closeSession = () => call('DELETE', '/api/session');
export const listGenerations = () => call('GET', '/api/generations');
export const getGeneration = (gid) => call('GET', generationPath(gid));
export const renameGeneration = (gid, name) => call('PATCH', generationPath(gid), { json: { name } });
export const deleteGeneration = (gid) => call('DELETE', generationPath(gid));
// Sharing (issue 69): the owner's shares of a generation, a link redeemed, the
// generations shared with me; what the signed-in user may do with each generation shown
// (`owner`, `viewer`, `caller`: the generation's and the status's `access`).
export const access = new Map();
export const shares = (gid) => call('GET', `${generationPath(gid)}/shares`);
export const share = (gid, body) => call('POST', `${generationPath(gid)}/shares`, { json: body });
export const revokeShare = (gid, id) => call('DELETE', `${generationPath(gid)}/shares/${enc(id)}`);
export const redeemShare = (secret) => call('POST', '/api/shares/redeem', { json: { secret } });
export const sharedWithMe = () => call('GET', '/api/shares');
export const generationFile = (gid, path) =>
  call('GET', `${generationPath(gid)}/files/${path.split('/').map(enc).join('/')}`);

export const revisions = (gid) => call('GET', `${generationPath(gid)}/revisions`);
/** A new revision with these files changed (`{path: text}`), applied live to a running preview. */
export const saveFiles = (gid, files) => call('POST', `${generationPath(gid)}/revisions`, { json: { files } });
export const revisionDiff = (gid, number) => call('GET', `${generationPath(gid)}/revisions/${number}/diff`);
/** Revision `number` applied to the running preview (answered once it switched or failed). */
export const applyRevision = (gid, number) => call('POST', `${generationPath(gid)}/revisions/${number}/apply`);

export const snapshots = (gid) => call('GET', `${previewPath(gid)}/snapshots`);
export const saveSnapshot = (gid, name) => call('POST', `${previewPath(gid)}/snapshots`, { json: { name } });
export const restoreSnapshot = (gid, sid) => call('POST', `${previewPath(gid)}/snapshots/${enc(sid)}/restore`);
export const snapshotDiff = (gid, sid, other) =>
  call('GET', `${previewPath(gid)}/snapshots/${enc(sid)}/diff${query({ with: other })}`);

/** An archive goes as the raw body with its own content type (zip or gzip). */
export const uploadArchive = (projectId, file, contentType) =>
  call('POST', `/api/generations${query({ projectId })}`, {
    body: file,
    headers: { 'Content-Type': contentType },
  });

export const launch = (gid, options) => call('POST', `${previewPath(gid)}/launch`, { json: options });
export const stop = (gid) => call('DELETE', previewPath(gid));
export const presets = (gid) => call('GET', `${generationPath(gid)}/presets`);
/** The audit trail of `gid`, newest first: a page of at most `limit`, before the entry `before`. */
export const audit = (gid, { before, limit = 30 } = {}) =>
  call('GET', `/api/audit${query({ generation: gid, before, limit })}`);
/** `{env: {NAME: value | null}, secret: [NAME…]}`: null keeps a secret's stored value. */
export const putPreset = (gid, name, body) =>
  call('PUT', `${generationPath(gid)}/presets/${enc(name)}`, { json: body });
export const deletePreset = (gid, name) => call('DELETE', `${generationPath(gid)}/presets/${enc(name)}`);
export const status = (gid, previewId, { poll = false } = {}) =>
  call('GET', `${previewPath(gid)}/status${query({ previewId })}`, { poll });
export const endpoints = (gid) => call('GET', `${generationPath(gid)}/endpoints`);
export const endpointStats = (gid) => call('GET', `${generationPath(gid)}/preview/endpoints/stats`);
export const previewConfig = (gid) => call('GET', `${previewPath(gid)}/config`);
/** One more preview token for this tab (a script's and the other tabs' keep working). */
export const newPreviewToken = (gid) =>
  call('POST', `${previewPath(gid)}/token`, { json: { label: 'web UI' } });

export const history = (gid, previewId, after, limit) =>
  call('GET', `${previewPath(gid)}/logs${query({ previewId, after, limit })}`);

/** URL of the downloadable history (the session cookie authorises it). */
/** `conditions`: [key, value] pairs kept even when the value is empty (a strict
 * comparison of a field, `field.status>500`, is a key with no value). */
export function historyDownloadUrl(gid, previewId, params, conditions = []) {
  const url = `${previewPath(gid)}/logs${query({ previewId, ...params })}`;
  if (!conditions.length) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams(conditions)}`;
}

export const streamUrl = (gid, previewId, lastEventId) =>
  `${previewPath(gid)}/logs/stream${query({ previewId, lastEventId })}`;

/** A one-time URL that opens the app at its own origin, signed in, landing on `path`. */
export const appTicket = (gid, token, path) =>
  call('POST', `${previewPath(gid)}/ticket`, { json: { path }, headers: { 'X-Preview-Token': token } });

/** `token` null: a caller the generation is shared with (the share stands for it). */
export const sendEnvelope = (gid, token, envelope) =>
  call('POST', `${previewPath(gid)}/request`, { json: envelope, headers: token ? { 'X-Preview-Token': token } : {} });

export const requests = (gid, params = {}) => call('GET', `${previewPath(gid)}/requests${query(params)}`);
export const requestsHarUrl = (gid) => `${previewPath(gid)}/requests.har`;
export const pinNote = (gid, body) => call('POST', `${previewPath(gid)}/annotations`, { json: body });
export const volatilePaths = (gid) => call('GET', `${previewPath(gid)}/requests/volatile`);
export const markVolatilePaths = (gid, paths) =>
  call('PUT', `${previewPath(gid)}/requests/volatile`, { json: { paths } });
export const replayRequests = (gid, token, ids) =>
  call('POST', `${previewPath(gid)}/requests/replay`, { json: { ids }, headers: { 'X-Preview-Token': token } });
