// A log line's fields, as the service reads them (preview/logs/fields.py): a line that is
// one JSON object, or a logfmt record (nothing but `key=value` pairs, two at least,
// `level=warn msg="item gone" userId=9`); and a condition on one (`userId = 7`, `status
// >= 500`, as the history's `field.` filters take them), which the terminal filters the
// lines it holds by, and which a download asks of the service.

const MAX_PARSED = 64 * 1024; // a longer line is not parsed (a dump, not a record)
const PAIR = /([A-Za-z_@][\w.@/-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?:\s+|$)/y;

/** Comparisons of order: between numbers only. */
export const ORDER = { '>=': (a, b) => a >= b, '<=': (a, b) => a <= b, '>': (a, b) => a > b, '<': (a, b) => a < b };
/** Every comparison a condition can make, as the page shows them. */
export const COMPARISONS = { '=': '=', '!=': '≠', '>=': '≥', '<=': '≤', '>': '>', '<': '<' };

/** The fields of a line that is one JSON object or a logfmt record, else null. */
export function lineFields(text) {
  if (text.length > MAX_PARSED) return null;
  if (text[0] !== '{') return text.includes('=') ? logfmt(text) : null;
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function logfmt(message) {
  const text = message.trim();
  const fields = {};
  let count = 0;
  PAIR.lastIndex = 0;
  while (PAIR.lastIndex < text.length) {
    const pair = PAIR.exec(text);
    if (pair === null) return null;
    let value = pair[2];
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value);
      } catch {
        value = value.slice(1, -1); // an escape JSON lacks (Go's \x41): the quotes off
      }
    }
    if (!(pair[1] in fields)) count += 1;
    fields[pair[1]] = value;
  }
  return count >= 2 ? fields : null;
}

const MISSING = Symbol('missing');

/** The field `name` (a key, else a dotted path into objects), or MISSING. */
function fieldValue(fields, name) {
  if (Object.hasOwn(fields, name)) return fields[name];
  let value = fields;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) return MISSING;
    value = value[part];
  }
  return value;
}

/** A field's value as one piece of text: a string as it is, anything else as JSON. */
export function fieldText(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function number(value) {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string' || !value.trim()) return null;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : null;
}

/** Whether a value can be compared in order (a number, or text that is one). */
export const isNumber = (value) => typeof value !== 'boolean' && number(value) !== null;

function equals(value, wanted) {
  if (typeof value === 'number') return number(wanted) === value;
  if (typeof value === 'string') return value === wanted || (number(value) !== null && number(value) === number(wanted));
  return fieldText(value) === wanted;
}

/** Whether a line's fields (lineFields') meet `{name, op, value}`. */
export function holds(condition, fields) {
  const value = fieldValue(fields, condition.name);
  if (value === MISSING) return false;
  const order = ORDER[condition.op];
  if (order) return isNumber(value) && number(condition.value) !== null && order(number(value), number(condition.value));
  return condition.op === '!=' ? !equals(value, condition.value) : equals(value, condition.value);
}

/** The history's query parameter for a condition, [key, value] (`field.status>` and
 * `500` for `>=`; a strict comparison is a key with no value, `field.status>500`). */
export function conditionParam({ name, op, value }) {
  if (op === '>' || op === '<') return [`field.${name}${op}${value}`, ''];
  return [`field.${name}${op === '=' ? '' : op.slice(0, 1)}`, value];
}
