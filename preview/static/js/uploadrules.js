// Which files of a folder an upload sends: those `preview push` and `preview watch` send
// (preview/client/watch.py, FolderRules). Not in a folder never worth sending (one list,
// /static/upload-rules.json, which the CLI reads too), and not ignored by the folder's
// .gitignore, read as the CLI reads it (pathspec's GitIgnoreSpec): the same regular
// expressions made from each pattern, the same rule for which match wins.
// tests/test_ui_upload_rules.py checks that both decide alike.

let skipped = null;

/** The folders never sent (`node_modules`, `.venv`, …), as a Set. */
export async function skippedFolders() {
  if (!skipped) {
    const response = await fetch('/static/upload-rules.json', { cache: 'no-cache' });
    if (!response.ok) throw new Error(`the upload rules could not be read (HTTP ${response.status})`);
    skipped = new Set((await response.json()).skippedFolders);
  }
  return skipped;
}

const DIR_MARK = '(?<ps_d>/)'; // a match through a folder's pattern ("build/")
const DIR_MARK_OPT = `(?:${DIR_MARK}|$)`;

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

/** `{regex, include}` of one .gitignore line, or null (blank, comment, dropped). */
function compile(line) {
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
        if (i === end) parts.push(DIR_MARK_OPT);
        needSlash = true;
      }
    }
    source = parts.join('');
  }
  return { regex: new RegExp(source), include };
}

/** Whether a path (`a/b.py`, from the folder) is ignored by the .gitignore `text`, as
 * pathspec's GitIgnoreSpec decides: the last pattern matching the path itself decides;
 * where none does, the last matching one of its folders ("build/"). */
export function gitignoreMatcher(text) {
  const patterns = [];
  for (const line of (text || '').split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/)) { // str.splitlines'
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
