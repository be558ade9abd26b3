// The generation's environment presets in the launch options: pick one, see its
// variables (a secret one masked: the service never sends its value), flip the ones that
// look like switches, and "Launch with preset". The launch sends `preset` and, for each
// flipped switch, its new value in `env`, which the service lays over the preset's
// (a variable is read when the app starts: a change takes a relaunch).

import * as api from './api.js';
import { $, h, setText, show } from './dom.js';

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
    this.select.addEventListener('change', () => this.render());
    this.button.addEventListener('click', () => onLaunch());
  }

  /** Load `gid`'s presets (none: the picker says so and sends nothing). */
  async load(gid) {
    this.gid = gid;
    this.presets = new Map();
    this.flipped = new Map();
    let listed = [];
    try {
      listed = (await api.presets(gid)).presets;
    } catch {
      listed = []; // (a generation gone meanwhile: the page says so elsewhere)
    }
    if (this.gid !== gid) return;
    for (const preset of listed) this.presets.set(preset.name, preset);
    const options = [h('option', { value: '', text: listed.length ? '(none)' : '(no presets)' })];
    for (const name of this.presets.keys()) options.push(h('option', { value: name, text: name }));
    this.select.replaceChildren(...options);
    this.select.disabled = listed.length === 0;
    this.render();
  }

  render() {
    this.flipped = new Map();
    const preset = this.presets.get(this.select.value);
    this.button.disabled = !preset;
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
