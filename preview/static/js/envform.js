// The variables a failed start says it needs (the status's missingEnv), asked for in the
// failure panel: one field per variable, and "Launch with these" relaunches with them as
// the launch option `env`, together with those given before for the same generation (a
// relaunch that meets the next missing variable keeps the first). The values may be
// secrets: they stay in this page's memory only, never in storage.

import { $, h, show } from './dom.js';

export class MissingEnvForm {
  /** `onLaunch(env)`: relaunch the shown generation with these variables. */
  constructor(onLaunch) {
    this.form = $('missing-env');
    this.fields = $('missing-env-fields');
    this.given = new Map(); // gid -> {NAME: value}
    this.gid = null;
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const env = { ...this.env(this.gid) };
      for (const input of this.fields.querySelectorAll('input')) env[input.name] = input.value;
      this.given.set(this.gid, env);
      onLaunch(env);
    });
  }

  /** What the user gave for `gid` so far (the next launch sends it again). */
  env(gid) {
    return this.given.get(gid) || {};
  }

  /** Ask for `names` for `gid`; none: the form goes. */
  ask(gid, names) {
    // The failed status comes again (its event, a poll) while the user types: the same
    // fields are left as they are, and what is typed is kept in a form redrawn for other
    // names (redrawn, the fields were emptied and "Launch with these" sent nothing).
    const shown = [...this.fields.querySelectorAll('input')].map((input) => input.name);
    if (this.gid === gid && shown.join('\n') === (names || []).join('\n')) return; // (focus kept)
    const typed = {};
    if (this.gid === gid) {
      for (const input of this.fields.querySelectorAll('input')) if (input.value) typed[input.name] = input.value;
    }
    this.gid = gid;
    const given = { ...this.env(gid), ...typed };
    const rows = (names || []).map((name, i) =>
      h(
        'div',
        { class: 'env-field' },
        h('label', { for: `missing-env-${i}`, class: 'mono', text: name }),
        h('input', { id: `missing-env-${i}`, name, type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false', required: true, value: given[name] ?? '' }),
      ),
    );
    this.fields.replaceChildren(...rows);
    show(this.form, rows.length > 0);
  }
}
