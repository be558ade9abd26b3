// The generation's environment presets in the launch options: pick one, see its
// variables (a secret one masked: the service never sends its value), flip the ones that
// look like switches, and "Launch with preset". The launch sends `preset` and, for each
// flipped switch, its new value in `env`, which the service lays over the preset's
// (a variable is read when the app starts: a change takes a relaunch). "New preset" and
// "Edit" open the editor (PresetEditor): a name and rows of variables, each marked
// secret or not; a secret's stored value is never shown, and left empty it is kept.

import * as api from './api.js';
import { $, h, setText, show } from './dom.js';
import { NewestAnswer, SUPERSEDED } from './newest.js';

const ON = new Set(['true', 'yes', 'on', '1']);

export class PresetPicker {
  /** `onLaunch()`: launch the shown generation (with `options()` in its body). */
  constructor(onLaunch) {
    this.select = $('launch-preset');
    this.list = $('preset-variables');
    this.button = $('launch-with-preset');
    this.gid = null;
    this.presets = new Map(); // name -> the API's preset
    this.flipped = new Map(); // NAME -> "true" | "false", for the picked preset
    this.listed = new NewestAnswer(); // loaded on each pick and each save: the newest drawn
    this.select.addEventListener('change', () => this.render());
    this.button.addEventListener('click', () => onLaunch());
    this.editor = new PresetEditor((name) => this.load(this.gid, name));
    $('preset-new').addEventListener('click', () => this.editor.open(this.gid, null));
    $('preset-edit').addEventListener('click', () => this.editor.open(this.gid, this.presets.get(this.select.value)));
    $('preset-delete').addEventListener('click', () => this.remove());
  }

  /** Delete the picked preset, asked first. */
  async remove() {
    const name = this.select.value;
    if (!name || !window.confirm(`Delete the preset ${name}? Its variables are gone for good.`)) return;
    try {
      await api.deletePreset(this.gid, name);
    } catch (error) {
      setText($('preset-hint'), `Not deleted: ${error.message}`);
      return;
    }
    await this.load(this.gid);
  }

  /** Load `gid`'s presets (none: the picker says so and sends nothing), `picked` chosen. */
  async load(gid, picked = null) {
    if (this.gid !== gid) this.editor.close();
    this.gid = gid;
    this.presets = new Map();
    this.flipped = new Map();
    let answer;
    try {
      answer = await this.listed.of(api.presets(gid));
    } catch {
      answer = { presets: [] }; // (a generation gone meanwhile: the page says so elsewhere)
    }
    if (answer === SUPERSEDED || this.gid !== gid) return;
    const listed = answer.presets;
    for (const preset of listed) this.presets.set(preset.name, preset);
    const options = [h('option', { value: '', text: listed.length ? '(none)' : '(no presets)' })];
    for (const name of this.presets.keys()) options.push(h('option', { value: name, text: name }));
    this.select.replaceChildren(...options);
    this.select.disabled = listed.length === 0;
    if (picked && this.presets.has(picked)) this.select.value = picked;
    this.render();
  }

  render() {
    this.flipped = new Map();
    const preset = this.presets.get(this.select.value);
    this.button.disabled = !preset;
    $('preset-edit').disabled = !preset;
    $('preset-delete').disabled = !preset;
    const rows = (preset?.variables || []).map((variable) => {
      const label = h('span', { class: 'mono preset-name', text: variable.name });
      if (variable.toggle && !variable.secret) {
        const box = h('input', { type: 'checkbox', class: 'preset-toggle', 'aria-label': variable.name });
        box.checked = ON.has(String(variable.value).trim().toLowerCase());
        box.addEventListener('change', () => this.flipped.set(variable.name, box.checked ? 'true' : 'false'));
        return h('li', { dataset: { name: variable.name } }, h('label', { class: 'check' }, box, label));
      }
      const value = variable.secret ? '•••••• (secret)' : variable.value;
      return h('li', { dataset: { name: variable.name } }, label, ' = ', h('span', { class: 'mono', text: value }));
    });
    this.list.replaceChildren(...rows);
    show(this.list, rows.length > 0);
    setText($('preset-hint'), preset ? 'Its variables under those given here; a change takes effect at the next launch.' : '');
  }

  /** The launch body's part: `{preset, env}` (the flipped switches), or nothing. */
  options() {
    const name = this.select.value;
    if (!name || !this.presets.has(name)) return {};
    return { preset: name, env: Object.fromEntries(this.flipped) };
  }
}

/** The form that makes or replaces a preset whole (PUT …/presets/{name}). */
class PresetEditor {
  /** `onSaved(name)`: reload the presets, that one picked. */
  constructor(onSaved) {
    this.form = $('preset-editor');
    this.name = $('preset-name');
    this.rows = $('preset-editor-rows');
    this.error = $('preset-editor-error');
    this.gid = null;
    this.editing = null; // the preset's name when editing one, null for a new one
    $('preset-add-variable').addEventListener('click', () => this.addRow({ name: '', value: '', secret: false }).querySelector('input').focus());
    $('preset-cancel').addEventListener('click', () => this.close());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save(onSaved);
    });
  }

  /** Open for `gid`: `preset` (the API's, to edit) or null (a new one). */
  open(gid, preset) {
    this.gid = gid;
    this.editing = preset ? preset.name : null;
    this.name.value = preset ? preset.name : '';
    this.name.readOnly = Boolean(preset); // (a stored secret is kept under its preset's name)
    this.rows.replaceChildren();
    for (const variable of preset?.variables || []) this.addRow(variable);
    if (!preset) this.addRow({ name: '', value: '', secret: false });
    show(this.error, false);
    show(this.form, true);
    this.name.focus();
  }

  close() {
    show(this.form, false);
    this.rows.replaceChildren();
  }

  /** One variable's row: name, value (a stored secret's left empty: kept), secret, remove. */
  addRow(variable) {
    const stored = Boolean(variable.secret && this.editing && variable.name);
    const name = h('input', { type: 'text', class: 'mono', 'aria-label': 'Variable name', autocomplete: 'off', spellcheck: 'false', value: variable.name });
    const value = h('input', {
      type: variable.secret ? 'password' : 'text',
      class: 'mono',
      'aria-label': 'Value',
      autocomplete: 'off',
      spellcheck: 'false',
      value: variable.secret ? '' : (variable.value ?? ''),
      placeholder: stored ? '(kept: type to replace)' : '',
    });
    const secret = h('input', { type: 'checkbox', 'aria-label': 'Secret' });
    secret.checked = Boolean(variable.secret);
    secret.addEventListener('change', () => { value.type = secret.checked ? 'password' : 'text'; });
    const row = h(
      'div',
      { class: 'preset-variable', dataset: { stored: stored ? variable.name : '' } },
      name,
      value,
      h('label', { class: 'check' }, secret, ' secret'),
      h('button', { type: 'button', class: 'button small', text: 'Remove', onclick: () => row.remove() }),
    );
    this.rows.append(row);
    return row;
  }

  /** The body PUT sends: each named row's value; a stored secret left empty as null. */
  body() {
    const env = {};
    const secret = [];
    for (const row of this.rows.querySelectorAll('.preset-variable')) {
      const [name, value, isSecret] = row.querySelectorAll('input');
      const key = name.value.trim();
      if (!key) continue;
      const keep = isSecret.checked && value.value === '' && row.dataset.stored === key;
      env[key] = keep ? null : value.value;
      if (isSecret.checked) secret.push(key);
    }
    return { env, secret };
  }

  async save(onSaved) {
    const name = this.name.value.trim();
    try {
      await api.putPreset(this.gid, name, this.body());
    } catch (error) {
      setText(this.error, error.message);
      show(this.error, true);
      return;
    }
    this.close();
    await onSaved(name);
  }
}
