// The page's entry point: signs in, then wires the generations column, the preview
// controls, the terminal, the endpoints and the request tester together.

import * as api from './api.js';
import { $, h, setText, show } from './dom.js';
import { EndpointList } from './endpoints.js';
import { FileViewer } from './fileviewer.js';
import { Generations } from './generations.js';
import { LineDetail } from './linedetail.js';
import { PreviewController } from './preview.js';
import { RequestHistoryCard } from './history.js';
import { RevisionList } from './revisions.js';
import { ShareCard } from './shares.js';
import { ActivityCard } from './activity.js';
import { SnapshotList } from './snapshots.js';
import * as session from './session.js';
import { StatusPanel } from './status.js';
import { TerminalView } from './terminal.js';
import { RequestTester } from './tester.js';
import { Toolbar } from './toolbar.js';

// Long main-thread tasks, kept for the responsiveness test (and curious users).
const longTasks = [];
try {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(Math.round(entry.duration));
  }).observe({ type: 'longtask', buffered: true });
} catch {
  // Not supported by this browser: nothing to record.
}

const statusPanel = new StatusPanel();
let preview; // PreviewController, set below (the terminal's callbacks refer to it)

const toolbar = new Toolbar({
  onFilter: (filter) => terminal.applyFilter(filter),
  onTimestamps: (visible) => terminal.setTimestamps(visible),
  onWrap: (wrap) => terminal.setWrap(wrap),
  onPause: (paused) => terminal.setPaused(paused),
  onMatch: (delta) => terminal.gotoMatch(delta),
});

const terminal = new TerminalView({
  viewport: $('terminal-viewport'),
  spacer: $('terminal-spacer'),
  rows: $('terminal-rows'),
  empty: $('terminal-empty'),
  jumpButton: $('jump-latest'),
  onNearTop: () => preview.loadOlder(),
  onRender: (model) => toolbar.setCounts(model), // at most once a frame
  onLine: (entry) => lineDetail.open(entry),
  onFollow: (follow) => toolbar.setPaused(!follow),
});

const lineDetail = new LineDetail({
  findRequest: (requestId) => tester.record(requestId),
  onFilterField: (condition) => toolbar.addField(condition),
  onClose: () => terminal.viewport.focus(),
  // The terminal shows the selected preview's log: the line is of that preview.
  pinNote: (seq, text) =>
    api.pinNote(preview.gid, { seq, text, ...(preview.previewId ? { previewId: preview.previewId } : {}) }),
});
const endpoints = new EndpointList({
  onTry: (endpoint) => tester.fill(endpoint),
  onError: reportError,
  onLoaded: (docsPath) => {
    preview.docsPath = docsPath;
  },
});
const tester = new RequestTester({ onReveal: (requestId) => preview.reveal(requestId), onError: reportError });
const requestHistory = new RequestHistoryCard({
  previewToken: (fresh) => tester.previewToken(fresh),
  onError: reportError,
});
preview = new PreviewController({
  terminal,
  toolbar,
  statusPanel,
  // Running: now from the live OpenAPI, if the app has one; ended: from the source again.
  onRunning: (gid) => {
    endpoints.load(gid);
    generations.refresh(); // the list's status badges
    revisionList.show(gid); // which revision runs (a swap, too, says running)
  },
  onApplyOutcome: (gid) => revisionList.show(gid), // a revision that failed to take over
  nameOf: (gid) => generations.nameOf(gid),
  onStopped: () => generations.refresh(),
  onEnded: () => forgetTheRunningPreview(),
  // A new preview: the list says it starts (not its last outcome until it runs), and a
  // request's error from before it (no_active_preview) no longer holds.
  onLaunched: () => {
    generations.refresh();
    tester.showError(null);
  },
  onAccessEnded: () => refreshShared(),
});

const fileViewer = new FileViewer({
  onError: reportError,
  // A file saved from the viewer is a new revision: listed, its sizes, and when it runs
  // now, its routes; a failed preview launched again on it is followed from its start.
  onSaved: (gid, answer) => {
    if (answer.unchanged) return;
    revisionList.show(gid);
    generations.showFiles(gid);
    if (answer.applied) endpoints.load(gid);
    if (answer.relaunched) preview.select(gid);
  },
});
const revisionList = new RevisionList({
  viewer: fileViewer,
  onError: reportError,
  onApplied: (gid) => endpoints.load(gid), // the new code's routes
  onRelaunched: (gid) => preview.select(gid), // the new preview, followed from its start
});
const snapshotList = new SnapshotList({ viewer: fileViewer, onError: reportError });
const shareCard = new ShareCard({ onError: reportError });
const activityCard = new ActivityCard({ onError: reportError });
const narrow = window.matchMedia('(max-width: 760px)');
// On a phone the message needs the row's width: timestamps start off (one tap away).
if (narrow.matches) {
  $('show-timestamps').checked = false;
  terminal.setTimestamps(false);
}

// Every part of the page that shows something of one generation: its forget(gid)
// drops all it shows of the last one (messages, answers, forms, lists) when another is
// shown, or none (deleted). Called from here alone, so that no part is left out of a
// switch: the preview's own area (status, timeline, notices, terminal) is reset by its
// select(), which also loads the new one's.
const perGeneration = () => [generations, lineDetail, fileViewer, endpoints, tester, requestHistory, revisionList, snapshotList, shareCard, activityCard];

function forgetGeneration(gid) {
  for (const part of perGeneration()) part.forget(gid);
}

// The messages that speak of the shown preview as running ("…the running preview runs
// it now", "Restored …: the app runs with its data"): dropped once it has ended.
function forgetTheRunningPreview() {
  fileViewer.previewEnded();
  snapshotList.previewEnded();
}

/** Show a generation: one of mine, or one shared with me (`shared`: its share from
 * GET /api/shares), which is shown read-only and without what is its owner's alone. */
function showGeneration(gid, reveal, shared = null) {
  show($('no-selection'), false);
  show($('workspace-body'), true);
  setText($('preview-title'), shared ? `${gid} (${shared.owner}'s)` : generations.nameOf(gid));
  document.body.dataset.access = shared ? shared.role : 'owner';
  api.access.set(gid, shared ? shared.role : 'owner');
  forgetGeneration(gid);
  endpoints.load(gid);
  requestHistory.refresh();
  preview.select(gid);
  if (shared) {
    snapshotList.hide();
    shareCard.hide();
    activityCard.hide();
  } else {
    revisionList.show(gid);
    snapshotList.show(gid);
    shareCard.show(gid);
    activityCard.show(gid);
  }
  // Stacked (a phone): the workspace is below the list; bring it into view.
  if (reveal && narrow.matches) $('workspace').scrollIntoView({ block: 'start' });
}

/** The generations others shared with me, in their own list. */
async function refreshShared() {
  let shared = [];
  try {
    shared = (await api.sharedWithMe()).shared;
  } catch (error) {
    reportError(error);
  }
  show($('shared-card'), shared.length > 0);
  $('shared-list').replaceChildren(
    ...shared.map((share) =>
      h(
        'li',
        {},
        h('button', {
          type: 'button',
          class: 'generation',
          dataset: { gid: share.generationId },
          text: `${share.generationId} · ${share.owner}'s · ${share.role}`,
          onclick: () => showGeneration(share.generationId, true, share),
        }),
      ),
    ),
  );
  return shared;
}

/** A link opened (`#share=<secret>`): redeemed for this user, then shown. */
async function redeemLink() {
  const url = new URL(window.location.href);
  const fragment = new URLSearchParams(url.hash.slice(1));
  const secret = fragment.get('share');
  if (!secret) return;
  fragment.delete('share');
  const rest = fragment.toString();
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${rest ? `#${rest}` : ''}`);
  try {
    const redeemed = await api.redeemShare(secret);
    const shared = await refreshShared();
    const share = shared.find((each) => each.generationId === redeemed.generationId);
    showGeneration(redeemed.generationId, true, redeemed.role === 'owner' ? null : share || { owner: '', role: redeemed.role });
  } catch (error) {
    preview.showError(error.message, 'share');
  }
}

const generations = new Generations({
  onSelect: (gid, summary, reveal) => showGeneration(gid, reveal),
  onReveal: () => {
    if (narrow.matches) $('workspace').scrollIntoView({ block: 'start' });
  },
  onRenamed: (gid, name) => setText($('preview-title'), name),
  mayLeave: () => fileViewer.mayLeave(),
  onDeleted: () => {
    preview.detach();
    preview.gid = null;
    forgetGeneration(null);
    snapshotList.hide();
    activityCard.hide();
    show($('workspace-body'), false);
    show($('no-selection'), true);
  },
  onOpenFile: (gid, path) => fileViewer.open(gid, path),
  onError: reportError,
});

function reportError(error) {
  if (error.status === 401) return; // handled by the sign-in screen
  if (error.status === 0) return; // the outage notice says it (see onReachability)
  preview.showError(error.message);
}

// The service unreachable: say so once, probe with a growing pause (1 s … 30 s), and
// when it answers again clear the notice and pick up where the page was.
let probing = false;
api.onReachability(async (up) => {
  if (up) {
    preview.clearNotice('connection');
    return;
  }
  if (probing) return;
  probing = true;
  let delay = 1000;
  for (;;) {
    preview.showError(`The service is unreachable; trying again in ${Math.round(delay / 1000)} s…`, 'connection');
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (await api.reachable()) break;
    delay = Math.min(30_000, delay * 2);
  }
  probing = false;
  preview.clearNotice('connection');
  await generations.refresh();
  preview.resume();
});

// Handy for tests and debugging; holds no secret.
window.__previewTerminal = {
  get model() {
    return preview.model;
  },
  view: terminal,
  ids: () => preview.model.entries.map((entry) => entry.id),
  setCap: (cap) => {
    preview.cap = cap;
    preview.model.cap = cap;
  },
  longTasks,
};

function showSignIn(message) {
  show($('app'), false);
  show($('sign-out'), false);
  show($('user-label'), false);
  show($('sign-in'), true);
  setText($('sign-in-error'), message || '');
  show($('sign-in-error'), Boolean(message));
  $('sign-in-token').focus();
}

async function enter(user) {
  show($('sign-in'), false);
  show($('app'), true);
  setText($('user-label'), `${user.userId} (${user.tier})`);
  show($('user-label'), true);
  show($('sign-out'), true);
  await generations.refresh();
  await refreshShared();
  await redeemLink();
}

api.onUnauthorized(() => {
  preview.detach();
  showSignIn('The sign-in is not valid or has expired: paste a token.');
});

$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const user = await session.signIn($('sign-in-token').value);
    $('sign-in-token').value = ''; // traded: gone from the page before anything else runs
    await enter(user);
  } catch (error) {
    if (error.status !== 401) showSignIn(error.message);
  }
});

$('sign-out').addEventListener('click', async () => {
  preview.detach();
  await session.signOut().catch(() => {});
  window.location.replace('/');
});

async function start() {
  const token = session.takeTokenFromUrl();
  try {
    // A token from the URL, else the session cookie this browser may have already.
    await enter(await (token ? session.signIn(token) : session.openSession()));
  } catch (error) {
    if (error.status !== 401) showSignIn(error.message);
    // A token's 401 is shown by onUnauthorized; without one, no cookie yet is no error.
    else if (!token) showSignIn(error.code === 'missing_credentials' ? '' : 'The sign-in has expired: paste a token.');
  }
}

start();
