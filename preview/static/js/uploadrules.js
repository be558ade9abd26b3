// Which files of a folder an upload sends: those `preview push` and `preview watch` send
// (preview/client/watch.py, FolderRules). Not in a folder never worth sending (one list,
// /static/upload-rules.json, which the CLI reads too), and not ignored by the folder's
// .gitignore files, read as the CLI reads them (preview/client/gitignore.py), as git
// does: each folder's, its patterns relative to it, the deepest file with a matching
// pattern deciding (its last matching one), and nothing under an ignored folder coming
// back (nor its .gitignore read). Each pattern becomes the regular expression pathspec
// makes of it. tests/test_ui_upload_rules.py and tests/test_ui_gitignore_tree.py check
// that the page and the CLI decide alike, and as git does.

let rules = null;

async function uploadRules() {
  if (!rules) {
    const response = await fetch('/static/upload-rules.json', { cache: 'no-cache' });
    if (!response.ok) throw new Error(`the upload rules could not be read (HTTP ${response.status})`);
    const read = await response.json();
    rules = { folders: new Set(read.skippedFolders), markers: new Set(read.skippedFolderMarkers) };
  }
  return rules;
}

/** The folders never sent (`node_modules`, `.venv`, …), as a Set. */
export async function skippedFolders() {
  return (await uploadRules()).folders;
}

/** The files that make the folder holding them one never sent, whatever its name
 * (`pyvenv.cfg`: a Python virtualenv such as `env/`), as a Set. */
export async function skippedFolderMarkers() {
  return (await uploadRules()).markers;
}

const DIR_MARK = '(?<ps_d>/)'; // a match through a folder's pattern ("build/")
const DIR_MARK_OPT = `(?:${DIR_MARK}|$)`;

// str.splitlines' line ends, as the CLI reads a .gitignore
const splitLines = (text) => (text || '').split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** One segment's glob as a regular expression; null for an invalid range (git drops
 * the pattern); throws on a trailing backslash (pathspec refuses the pattern). */
function segmentRegex(glob) {
  let regex = '';
  let escape = false;
  let i = 0;
  while (i < glob.length) {
    const char = glob[i];
    i += 1;
    if (escape) {
      escape = false;
      regex += escapeRegex(char);
    } else if (char === '\\') {
      escape = true;
    } else if (char === '*') {
      regex += '[^/]*';
    } else if (char === '?') {
      regex += '[^/]';
    } else if (char === '[') {
      let j = i;
      if (j < glob.length && (glob[j] === '!' || glob[j] === '^')) j += 1;
      if (j < glob.length && glob[j] === ']') j += 1;
      while (j < glob.length && glob[j] !== ']') j += 1;
      if (j >= glob.length) return null;
      j += 1;
      let expr = '[';
      if (glob[i] === '!' || glob[i] === '^') {
        expr += '^';
        i += 1;
      }
      expr += glob.slice(i, j).replace(/\\/g, '\\\\');
      regex += expr;
      i = j;
    } else {
      regex += escapeRegex(char);
    }
  }
  if (escape) throw new Error(`a pattern ends with a backslash: ${glob}`);
  return regex;
}

/** `{regex, include}` of one .gitignore line, or null (blank, comment, dropped). Its
 * regex also matches what is under a matching path ("build" matches "build/x.js", as
 * pathspec's GitIgnoreSpec reads it), unless `whole`: then only the path itself. */
function compile(line, whole = false) {
  let text = line.endsWith('\\ ') ? line : line.replace(/\s+$/, '');
  if (!text || text.startsWith('#') || text === '/') return null;
  let include = true;
  if (text.startsWith('!')) {
    include = false;
    text = text.slice(1);
  }
  const segs = text.split('/');
  const isDir = segs[segs.length - 1] === '';
  if (!segs[0]) segs.shift();
  else if ((segs.length === 1 || (segs.length === 2 && !segs[1])) && segs[0] !== '**') segs.unshift('**');
  if (!segs.length) return null; // pathspec refuses it: the CLI would stop, the page skips it
  if (!segs[segs.length - 1]) segs[segs.length - 1] = '**';
  for (let i = segs.length - 1; i > 0; i -= 1) if (segs[i - 1] === '**' && segs[i] === '**') segs.splice(i, 1);
  let source;
  const joined = segs.join('/');
  if (joined === '**') source = isDir ? DIR_MARK : '.';
  else if (joined === '**/*') source = '.';
  else if (joined === '**/*/**') source = isDir ? DIR_MARK : '/';
  else {
    const parts = [];
    let needSlash = false;
    const end = segs.length - 1;
    for (const [i, seg] of segs.entries()) {
      if (seg === '**') {
        if (i === 0) parts.push('^(?:.+/)?');
        else if (i < end) {
          parts.push('(?:/.+)?');
          needSlash = true;
        } else parts.push(isDir ? DIR_MARK : '/');
      } else {
        if (i === 0) parts.push('^');
        if (needSlash) parts.push('/');
        const glob = seg === '*' ? '[^/]+' : segmentRegex(seg);
        if (glob === null) return null; // an invalid range: git drops the pattern
        parts.push(glob);
        if (i === end) parts.push(whole ? '$' : DIR_MARK_OPT);
        needSlash = true;
      }
    }
    source = parts.join('');
  }
  return { regex: new RegExp(source), include };
}

/** Whether a path (`a/b.py`, from the folder) is ignored by the .gitignore `text` alone, as
 * pathspec's GitIgnoreSpec decides: the last pattern matching the path itself decides;
 * where none does, the last matching one of its folders ("build/"). (The upload reads
 * folders with `folderMatcher`; this is how tests/test_ui_upload_rules.py checks that
 * `compile` makes pathspec's expressions, pattern by pattern.) */
export function gitignoreMatcher(text) {
  const patterns = [];
  for (const line of splitLines(text)) {
    try {
      const pattern = compile(line);
      if (pattern) patterns.push(pattern);
    } catch {
      // an invalid pattern (a trailing backslash) ignores nothing
    }
  }
  patterns.reverse(); // (pathspec reads them from the last)
  return (path) => {
    let include = null;
    let priority = 0;
    for (const pattern of patterns) {
      const match = pattern.regex.exec(path);
      if (!match) continue;
      const rank = match.groups?.ps_d ? 1 : 2;
      if (rank > priority) {
        include = pattern.include;
        priority = rank;
      }
      if (rank === 2) break;
    }
    return include === true;
  };
}

/** `decide(path, isDir)` of one folder's .gitignore `text`, for paths from that folder:
 * true (ignored), false (re-included by a `!pattern`) or null (no pattern matches it),
 * its last matching pattern deciding. A folder-only pattern ("build/") is made without
 * its slash and tried on folders alone. */
export function ignoreFile(text) {
  const patterns = [];
  for (const line of splitLines(text)) {
    const trimmed = line.endsWith('\\ ') ? line : line.replace(/\s+$/, '');
    const foldersOnly = trimmed.endsWith('/');
    try {
      const pattern = compile(foldersOnly ? trimmed.slice(0, -1) : trimmed, true);
      if (pattern) patterns.push({ ...pattern, foldersOnly });
    } catch {
      // an invalid pattern (a trailing backslash) ignores nothing
    }
  }
  patterns.reverse();
  return (path, isDir) => {
    for (const { regex, include, foldersOnly } of patterns) {
      if ((isDir || !foldersOnly) && regex.test(path)) return include;
    }
    return null;
  };
}

/** Whether a file's path (`a/b.py`, from the folder) is ignored by the folder's
 * .gitignore files, `texts` a Map of folder (`''` the top, `a/b`) to text, as git walks
 * the folder: a folder is decided before what it holds, and ignored, ignores all of it. */
export function folderMatcher(texts) {
  const files = new Map([...texts].map(([folder, text]) => [folder, ignoreFile(text)]));
  const decideIn = (path, isDir) => { // its folders known not to be ignored
    const parts = path.split('/');
    for (let depth = parts.length - 1; depth >= 0; depth -= 1) { // the deepest first
      const decide = files.get(parts.slice(0, depth).join('/'));
      const decided = decide ? decide(parts.slice(depth).join('/'), isDir) : null;
      if (decided !== null) return decided;
    }
    return false;
  };
  const folders = new Map(); // folder -> whether ignored (itself or one of its folders)
  const folderIgnored = (folder) => {
    if (!folders.has(folder)) {
      const cut = folder.lastIndexOf('/');
      folders.set(folder, (cut > 0 && folderIgnored(folder.slice(0, cut))) || decideIn(folder, true));
    }
    return folders.get(folder);
  };
  return (path) => {
    const cut = path.lastIndexOf('/');
    return (cut > 0 && folderIgnored(path.slice(0, cut))) || decideIn(path, false);
  };
}
