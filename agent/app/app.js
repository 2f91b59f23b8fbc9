/*
 * app.js — the office's page (issue 13), served by `lienket-agent app` on loopback.
 *
 * One file, no framework, nothing loaded from outside: the page works with the network
 * cable pulled. Everything is generated from GET /api/meta (docs/app-api.md): the
 * navigation (one entry per form), each form's fields, each list's columns. Every text
 * an office reads is Vietnamese. Data from the server is only ever put into the page as
 * text (textContent, attribute values), never as HTML.
 *
 * Screens (the address after '#'):
 *   /                  home: sync state, shortcuts
 *   /ho-so/KEY         list of a form: search, sort, pages, import/export, delete
 *   /ho-so/KEY/moi     a new record;   /ho-so/KEY/ID  an existing one (edit, delete)
 *   /dong-bo           sync: button, progress, last success, waiting, refused records
 *   /so-lieu           "what the province will see": this year beside last year
 *
 * Dates are typed and shown dd/mm/yyyy, with the page's own calendar (a native date
 * input shows mm/dd on an English Windows); the API receives ISO dates. A form is only
 * sent when every field passes the checks below; the server checks again and its 422
 * answer is shown at the fields it names. Nothing is saved while a form is wrong.
 */
'use strict';
(function () {

/* ------------------------------------------------------------------ state */

const S = {
  meta: null,        /* GET /api/meta */
  forms: {},         /* key -> form meta */
  csrf: '',
  lists: {},         /* key -> {q, sort, dir, offset} kept while moving around */
  dirty: false,      /* the open form has unsaved typing */
  sync: null,        /* last GET /api/sync */
  syncTimer: 0,
  view: 0,           /* incremented per screen: a late answer for an old screen is dropped */
  reloadList: null,  /* the list on screen, read again when a sync ends */
};
const PAGE_SIZE = 50;          /* rows per list page: fits a 768 px screen in two scrolls */
const PICK_DELAY_MS = 150;     /* typing pause before a picker asks the server */
const UNNAMED = 'Đơn vị của máy này'; /* the office's name before its first sync (docs/app-api.md §3) */
const SYNC_POLL_MS = 500;      /* while a sync runs */
const SYNC_IDLE_POLL_MS = 20000; /* otherwise: the badge stays fresh (automatic syncs) */

/* ------------------------------------------------------------------ DOM helpers */

/* el('tag', {class, text, on: {click: f}, attr: value…}, children…) — never parses HTML. */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'on') for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
      else if (k === 'hidden') e.hidden = !!v;
      else if (k in e && typeof v !== 'string') e[k] = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const $ = (sel, root) => (root || document).querySelector(sel);
const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

/* A small inline SVG icon (no file to load). */
function icon(name) {
  const paths = {
    cal: 'M7 2v2H5a2 2 0 0 0-2 2v13a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2h-2V2h-2v2H9V2H7zm-2 7h14v10H5V9zm2 2v2h2v-2H7zm4 0v2h2v-2h-2zm4 0v2h2v-2h-2zm-8 4v2h2v-2H7zm4 0v2h2v-2h-2z',
    x: 'M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z',
  };
  const ns = 'http://www.w3.org/2000/svg';
  const s = document.createElementNS(ns, 'svg');
  s.setAttribute('viewBox', '0 0 24 24');
  s.setAttribute('aria-hidden', 'true');
  s.setAttribute('focusable', 'false');
  s.setAttribute('class', 'icon');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', paths[name]);
  s.append(p);
  return s;
}

function toast(text, kind) {
  const t = $('#toast');
  t.textContent = text;
  t.className = 'toast show' + (kind ? ' ' + kind : '');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = 'toast'; }, 4000);
}

/* ------------------------------------------------------------------ numbers, dates */

const NUM = new Intl.NumberFormat('vi-VN');
const PCT = new Intl.NumberFormat('vi-VN', { style: 'percent', maximumFractionDigits: 1 });
function fmtNum(n) { return typeof n === 'number' ? NUM.format(n) : (n === null || n === undefined ? '' : String(n)); }

function pad2(n) { return (n < 10 ? '0' : '') + n; }
function daysIn(y, m) { return new Date(Date.UTC(y, m, 0)).getUTCDate(); }
function isoOf(y, m, d) { return y + '-' + pad2(m) + '-' + pad2(d); }
/* ISO 'YYYY-MM-DD' -> 'dd/mm/yyyy' ('' for anything else). */
function vnDate(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || '');
  return m ? m[3] + '/' + m[2] + '/' + m[1] : '';
}
function isoParts(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || '');
  return m ? { y: +m[1], m: +m[2], d: +m[3] } : null;
}
const YEAR_MIN = 1900, YEAR_MAX = 2100; /* what the schema's dates and years accept */

/* Reads a date as an office types it: d/m/yyyy with '/', '.' or '-' (or ISO).
 * Returns {iso} or {error: Vietnamese text} or {empty: true}. */
function parseDate(text) {
  const t = (text || '').trim();
  if (!t) return { empty: true };
  let d, m, y;
  let r = /^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$/.exec(t);
  if (r) { d = +r[1]; m = +r[2]; y = +r[3]; }
  else if ((r = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t))) { y = +r[1]; m = +r[2]; d = +r[3]; }
  else if ((r = /^(\d{2})(\d{2})(\d{4})$/.exec(t))) { d = +r[1]; m = +r[2]; y = +r[3]; }
  else return { error: 'Ngày phải viết theo kiểu ngày/tháng/năm, ví dụ 14/03/2021' };
  if (y < YEAR_MIN || y > YEAR_MAX) return { error: 'Năm phải từ ' + YEAR_MIN + ' đến ' + YEAR_MAX };
  if (m < 1 || m > 12) return { error: 'Tháng phải từ 1 đến 12' };
  if (d < 1 || d > daysIn(y, m)) return { error: 'Ngày không tồn tại: tháng ' + m + '/' + y + ' có ' + daysIn(y, m) + ' ngày' };
  return { iso: isoOf(y, m, d) };
}

/* Reads a whole number as typed: "5000000", "5.000.000", "5 000 000". */
function parseInt10(text) {
  const t = (text || '').trim();
  if (!t) return { empty: true };
  let s = t;
  if (/^-?\d{1,3}([. ]\d{3})+$/.test(s)) s = s.replace(/[. ]/g, '');
  if (!/^-?\d+$/.test(s)) return { error: 'Phải là một số nguyên, ví dụ 25' };
  const n = Number(s);
  if (!Number.isSafeInteger(n)) return { error: 'Số quá lớn' };
  return { value: n };
}

/* ------------------------------------------------------------------ the API */

/* The Vietnamese text of an error answer: {error}, or the errors of a 422 joined (a
 * refusal that belongs to no field comes under the key ""). */
function answerText(status, data) {
  if (data && (data.error || data.message)) return data.error || data.message;
  if (data && data.errors && typeof data.errors === 'object' && !Array.isArray(data.errors)) {
    const t = Object.values(data.errors).filter(Boolean).join(' ');
    if (t) return t;
  }
  return status >= 500 ? 'Chương trình Liên Kết trên máy này gặp lỗi (' + status + '). Những gì đã lưu vẫn còn; hãy thử lại.'
    : 'Yêu cầu bị từ chối (' + status + ').';
}

class ApiError extends Error {
  constructor(status, data) {
    super(answerText(status, data));
    this.status = status;
    this.data = data || {};
  }
}

/* api(method, path, body) — JSON in and out; the CSRF token on every write. A body that
 * is an ArrayBuffer is sent as it is (CSV import). Throws ApiError. */
async function api(method, path, body) {
  const headers = { 'Accept': 'application/json' };
  let payload;
  if (method !== 'GET') headers['X-CSRF-Token'] = S.csrf;
  if (body instanceof ArrayBuffer) { payload = body; headers['Content-Type'] = 'text/csv'; }
  else if (body !== undefined) { payload = JSON.stringify(body); headers['Content-Type'] = 'application/json'; }
  let r;
  try {
    r = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, { error: 'Không liên lạc được với chương trình Liên Kết trên máy này. Hãy mở lại ứng dụng.' });
  }
  let data = null;
  if ((r.headers.get('Content-Type') || '').includes('json')) {
    try { data = await r.json(); } catch (e) { data = null; }
  }
  if (r.status === 401 || r.status === 403) sessionLost();
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

function sessionLost() {
  const main = $('#main');
  main.replaceChildren(el('section', { class: 'card' },
    el('h1', { text: 'Phiên làm việc đã hết' }),
    el('p', { text: 'Hãy mở lại ứng dụng bằng biểu tượng Liên Kết (hoặc lệnh lienket-agent app). Những gì đã lưu vẫn còn nguyên trên máy.' })));
}

function errorText(e) {
  return (e && e.message) || 'Có lỗi không rõ nguyên nhân';
}

/* ------------------------------------------------------------------ dialogs */

/* confirmDialog(title, text, okLabel) -> Promise<boolean>; focus returns where it was. */
function confirmDialog(title, text, okLabel, danger) {
  return new Promise((resolve) => {
    const back = document.activeElement;
    const d = el('dialog', { class: 'dialog', 'aria-labelledby': 'dlg-title', 'aria-describedby': 'dlg-text' });
    const done = (v) => { d.close(); d.remove(); if (back && back.focus) back.focus(); resolve(v); };
    const cancel = el('button', { type: 'button', class: 'btn', text: 'Không', on: { click: () => done(false) } });
    const ok = el('button', { type: 'button', class: 'btn ' + (danger ? 'btn-danger' : 'btn-primary'), 'data-action': 'confirm', text: okLabel, on: { click: () => done(true) } });
    d.append(el('h2', { id: 'dlg-title', text: title }), el('p', { id: 'dlg-text', text: text }),
      el('div', { class: 'actions' }, ok, cancel));
    d.addEventListener('cancel', (ev) => { ev.preventDefault(); done(false); });
    document.body.append(d);
    d.showModal();
    cancel.focus();
  });
}

/* ------------------------------------------------------------------ calendar */

const MONTHS = ['Tháng 1', 'Tháng 2', 'Tháng 3', 'Tháng 4', 'Tháng 5', 'Tháng 6', 'Tháng 7',
  'Tháng 8', 'Tháng 9', 'Tháng 10', 'Tháng 11', 'Tháng 12'];
const WEEKDAYS = ['T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'CN'];
const WEEKDAY_NAMES = ['Thứ hai', 'Thứ ba', 'Thứ tư', 'Thứ năm', 'Thứ sáu', 'Thứ bảy', 'Chủ nhật'];

/* The page's own calendar beside a date input: a dialog-like popup with a grid of day
 * buttons. Keys: arrows (day, week), PageUp/PageDown (month), Shift+PageUp/PageDown
 * (year), Home/End (week), Enter/Space (choose), Escape (close). */
function openCalendar(input, button) {
  closeCalendar();
  const parsed = parseDate(input.value);
  const today = isoParts(S.meta.today) || { y: new Date().getFullYear(), m: new Date().getMonth() + 1, d: new Date().getDate() };
  let cur = parsed.iso ? isoParts(parsed.iso) : today;
  const chosen = parsed.iso || '';
  const pop = el('div', { class: 'calendar', role: 'dialog', 'aria-modal': 'false', 'aria-label': 'Chọn ngày', tabindex: '-1' });
  const title = el('h2', { class: 'cal-title', 'aria-live': 'polite' });
  const nav = (dm, dy) => () => { move(0, dm, dy); };
  const head = el('div', { class: 'cal-head' },
    el('button', { type: 'button', class: 'cal-nav', 'aria-label': 'Năm trước', text: '«', on: { click: nav(0, -1) } }),
    el('button', { type: 'button', class: 'cal-nav', 'aria-label': 'Tháng trước', text: '‹', on: { click: nav(-1, 0) } }),
    title,
    el('button', { type: 'button', class: 'cal-nav', 'aria-label': 'Tháng sau', text: '›', on: { click: nav(1, 0) } }),
    el('button', { type: 'button', class: 'cal-nav', 'aria-label': 'Năm sau', text: '»', on: { click: nav(0, 1) } }));
  const grid = el('table', { class: 'cal-grid', role: 'grid' });
  const foot = el('div', { class: 'cal-foot' },
    el('button', { type: 'button', class: 'btn btn-small', text: 'Hôm nay', on: { click: () => pick(isoOf(today.y, today.m, today.d)) } }),
    el('button', { type: 'button', class: 'btn btn-small', text: 'Đóng', on: { click: () => { closeCalendar(); input.focus(); } } }));
  pop.append(head, grid, foot);

  function pick(iso) {
    input.value = vnDate(iso);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
    closeCalendar();
    input.focus();
  }
  function move(dd, dm, dy) {
    let y = cur.y + dy, m = cur.m + dm;
    while (m < 1) { m += 12; y--; }
    while (m > 12) { m -= 12; y++; }
    y = Math.min(YEAR_MAX, Math.max(YEAR_MIN, y));
    let d = Math.min(cur.d, daysIn(y, m));
    if (dd) {
      const t = new Date(Date.UTC(y, m - 1, d + dd));
      y = t.getUTCFullYear(); m = t.getUTCMonth() + 1; d = t.getUTCDate();
    }
    cur = { y, m, d };
    render(true);
  }
  function render(focus) {
    title.textContent = MONTHS[cur.m - 1] + ' năm ' + cur.y;
    const headRow = el('tr', null, WEEKDAYS.map((w, i) => el('th', { scope: 'col', abbr: WEEKDAY_NAMES[i], text: w })));
    const body = el('tbody');
    const first = (new Date(Date.UTC(cur.y, cur.m - 1, 1)).getUTCDay() + 6) % 7; /* Monday = 0 */
    const n = daysIn(cur.y, cur.m);
    let row = el('tr');
    for (let i = 0; i < first; i++) row.append(el('td'));
    for (let d = 1; d <= n; d++) {
      const iso = isoOf(cur.y, cur.m, d);
      const b = el('button', {
        type: 'button', class: 'cal-day' + (iso === chosen ? ' chosen' : '') +
          (iso === isoOf(today.y, today.m, today.d) ? ' today' : ''),
        tabindex: d === cur.d ? '0' : '-1', 'data-date': iso, text: String(d),
        'aria-label': WEEKDAY_NAMES[(first + d - 1) % 7] + ', ' + vnDate(iso),
        'aria-pressed': iso === chosen ? 'true' : 'false',
        on: { click: () => pick(iso) },
      });
      row.append(el('td', null, b));
      if ((first + d) % 7 === 0) { body.append(row); row = el('tr'); }
    }
    if (row.children.length) body.append(row);
    grid.replaceChildren(el('thead', null, headRow), body);
    if (focus) { const b = $('button[tabindex="0"]', grid); if (b) b.focus(); }
  }
  grid.addEventListener('keydown', (ev) => {
    const k = ev.key;
    const map = { ArrowLeft: [-1, 0, 0], ArrowRight: [1, 0, 0], ArrowUp: [-7, 0, 0], ArrowDown: [7, 0, 0],
      PageUp: ev.shiftKey ? [0, 0, -1] : [0, -1, 0], PageDown: ev.shiftKey ? [0, 0, 1] : [0, 1, 0] };
    if (map[k]) { ev.preventDefault(); move(...map[k]); }
    else if (k === 'Home') { ev.preventDefault(); move(-((new Date(Date.UTC(cur.y, cur.m - 1, cur.d)).getUTCDay() + 6) % 7), 0, 0); }
    else if (k === 'End') { ev.preventDefault(); move(6 - ((new Date(Date.UTC(cur.y, cur.m - 1, cur.d)).getUTCDay() + 6) % 7), 0, 0); }
  });
  /* Tab out of the calendar closes it (a day re-drawn under the arrows keeps it open:
   * the new day has the focus by the time this looks) */
  pop.addEventListener('focusout', () => {
    setTimeout(() => {
      const a = document.activeElement;
      if (openCalendar.current && openCalendar.current.pop === pop && !pop.contains(a) && a !== button && a !== document.body) closeCalendar();
    }, 0);
  });
  pop.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') { ev.preventDefault(); ev.stopPropagation(); closeCalendar(); input.focus(); }
  });
  button.setAttribute('aria-expanded', 'true');
  input.closest('.date').append(pop);
  openCalendar.current = { pop, button };
  render(true);
}
function closeCalendar() {
  const c = openCalendar.current;
  if (!c) return;
  c.pop.remove();
  c.button.setAttribute('aria-expanded', 'false');
  openCalendar.current = null;
}
document.addEventListener('mousedown', (ev) => {
  const c = openCalendar.current;
  if (c && !c.pop.contains(ev.target) && !c.button.contains(ev.target)) closeCalendar();
});

/* ------------------------------------------------------------------ pickers */

/* A searchable list for a linked record (ref) or several (refs). The office types part
 * of a name, in any case, with or without diacritics; the server folds (GET /api/pick).
 * The field holds a value only once an entry of the list was chosen; text typed and
 * not chosen is an error at the field. ARIA 1.2 combobox with a listbox popup. */
function makePicker(field, multi) {
  const id = 'fld-' + field.name;
  const lbId = 'lb-' + field.name;
  const input = el('input', {
    id, type: 'text', class: 'input', role: 'combobox', autocomplete: 'off', spellcheck: 'false',
    'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': lbId,
    'data-field': field.name, placeholder: 'Gõ vài chữ của tên để tìm…',
  });
  const list = el('ul', { id: lbId, role: 'listbox', class: 'pick-list', hidden: true, 'aria-label': field.label });
  const chips = multi ? el('ul', { class: 'chips', 'aria-label': field.label + ' đã chọn' }) : null;
  const root = el('div', { class: 'pick' + (multi ? ' multi' : '') }, chips, input, list);
  const st = { chosen: multi ? [] : null, items: [], active: -1, timer: 0, seq: 0, query: '' };

  function renderChips() {
    chips.replaceChildren(...st.chosen.map((c, i) => el('li', { class: 'chip', 'data-id': c.id },
      el('span', { text: c.label }),
      el('button', { type: 'button', class: 'chip-x', 'aria-label': 'Bỏ ' + c.label,
        on: { click: () => { st.chosen.splice(i, 1); renderChips(); markDirty(); input.focus(); } } }, icon('x')))));
  }
  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    st.active = -1;
  }
  /* near: the entries found for a shorter query when q found nothing (a misspelt last
   * word: "Nguyen Thi Hao" → the "Nguyen Thi" people, offered as "Có phải là:") */
  function show(items, q, near) {
    st.items = items;
    st.active = items.length ? 0 : -1;
    const lis = items.map((it, i) => el('li', {
      id: lbId + '-' + i, role: 'option', class: 'pick-item', 'data-id': it.id,
      'aria-selected': i === st.active ? 'true' : 'false',
      on: { mousedown: (ev) => { ev.preventDefault(); choose(i); } },
    }, el('span', { class: 'pick-label', text: it.label }), it.detail ? el('span', { class: 'pick-detail', text: it.detail }) : null));
    if (near && items.length) {
      lis.unshift(el('li', { class: 'pick-none', role: 'option', 'aria-disabled': 'true',
        text: 'Không tìm thấy “' + q + '”. Có phải là:' }));
    } else if (!items.length) {
      lis.push(el('li', { class: 'pick-none', role: 'option', 'aria-disabled': 'true',
        text: (q ? 'Không tìm thấy “' + q + '”. Hãy gõ lại, bỏ bớt chữ, hoặc ' : 'Sổ chưa có ai để chọn: hãy ') + whereToAdd(field.ref) }));
    }
    list.replaceChildren(...lis);
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    highlight();
  }
  function highlight() {
    $$('.pick-item', list).forEach((li, i) => li.setAttribute('aria-selected', i === st.active ? 'true' : 'false'));
    if (st.active >= 0) {
      input.setAttribute('aria-activedescendant', lbId + '-' + st.active);
      const li = $('#' + lbId + '-' + st.active, list);
      if (li) li.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  }
  function choose(i) {
    const it = st.items[i];
    if (!it) return;
    if (multi) {
      if (!st.chosen.some((c) => c.id === it.id)) st.chosen.push({ id: it.id, label: it.label });
      renderChips();
      input.value = '';
    } else {
      st.chosen = { id: it.id, label: it.label };
      input.value = it.label;
    }
    close();
    markDirty();
    setFieldError(field.name, '');
  }
  async function search() {
    const q = input.value.trim();
    const seq = ++st.seq;
    st.query = q;
    const ask = async (text) => {
      const r = await api('GET', '/api/pick/' + encodeURIComponent(field.ref) + '?q=' + encodeURIComponent(text));
      return Array.isArray(r) ? r : (r && r.items) || [];
    };
    try {
      let items = await ask(q);
      let near = false;
      const words = q.split(/\s+/);
      while (!items.length && words.length > 1 && seq === st.seq) {
        words.pop();
        items = await ask(words.join(' '));
        near = true;
      }
      if (seq !== st.seq || document.activeElement !== input) return;
      show(items, q, near && items.length > 0);
    } catch (e) {
      if (seq === st.seq) setFieldError(field.name, errorText(e));
    }
  }
  input.addEventListener('input', () => {
    if (!multi) st.chosen = null;
    markDirty();
    clearTimeout(st.timer);
    st.timer = setTimeout(search, PICK_DELAY_MS);
  });
  /* a click in the field shows the list; focus alone does not (a window brought back
   * to the front gives the focus back, and must not cover the form with a list) */
  input.addEventListener('click', () => { if (list.hidden && (!st.chosen || multi)) search(); });
  input.addEventListener('blur', () => { setTimeout(close, 100); });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown') {
      ev.preventDefault();
      if (list.hidden) { search(); return; }
      if (st.items.length) { st.active = (st.active + 1) % st.items.length; highlight(); }
    } else if (ev.key === 'ArrowUp') {
      ev.preventDefault();
      if (st.items.length) { st.active = (st.active - 1 + st.items.length) % st.items.length; highlight(); }
    } else if (ev.key === 'Enter') {
      if (!list.hidden && st.active >= 0) { ev.preventDefault(); choose(st.active); }
    } else if (ev.key === 'Escape') {
      if (!list.hidden) { ev.preventDefault(); ev.stopPropagation(); close(); }
    } else if (ev.key === 'Backspace' && multi && !input.value && st.chosen.length) {
      st.chosen.pop(); renderChips(); markDirty();
    }
  });

  return {
    root, input,
    set(value, display) {
      if (multi) {
        const ids = Array.isArray(value) ? value : [];
        let labels = Array.isArray(display) ? display : null;
        if (!labels && typeof display === 'string' && ids.length === 1) labels = [display];
        if (!labels && typeof display === 'string') {
          const parts = display.split(/;\s*|,\s*/);
          if (parts.length === ids.length) labels = parts;
        }
        st.chosen = ids.map((v, i) => ({ id: v, label: (labels && labels[i]) || v }));
        renderChips();
      } else if (value) {
        st.chosen = { id: value, label: (typeof display === 'string' && display) || value };
        input.value = st.chosen.label;
      } else { st.chosen = null; input.value = ''; }
    },
    /* {value} or {error} */
    read() {
      const typed = input.value.trim();
      if (multi) {
        if (typed) return { error: 'Chưa chọn “' + typed + '” trong danh sách: hãy chọn một dòng trong danh sách hiện ra, hoặc xóa chữ đã gõ' };
        return st.chosen.length ? { value: st.chosen.map((c) => c.id) } : { empty: true, value: [] };
      }
      if (st.chosen) return { value: st.chosen.id };
      if (typed) return { error: 'Không có “' + typed + '” trong danh sách: hãy chọn một tên trong danh sách hiện ra khi gõ' };
      return { empty: true };
    },
  };
}

/* ------------------------------------------------------------------ form fields */

function markDirty() { S.dirty = true; }

/* A check made when a field loses focus may add an error line and move what is below
 * it. When the focus left because a button was pressed with the mouse, the button
 * would move away before the mouse is released and the click would be lost: such an
 * update waits until the click is over. */
const afterPointer = { down: false, queue: [] };
document.addEventListener('pointerdown', () => { afterPointer.down = true; }, true);
document.addEventListener('pointerup', () => {
  afterPointer.down = false;
  setTimeout(() => { const q = afterPointer.queue.splice(0); q.forEach((f) => f()); }, 0);
}, true);
function whenPointerFree(f) { if (afterPointer.down) afterPointer.queue.push(f); else f(); }

function setFieldError(name, msg) {
  const e = document.getElementById('err-' + name);
  const input = document.getElementById('fld-' + name);
  if (!e) return;
  e.textContent = msg || '';
  e.hidden = !msg;
  const wrap = e.closest('.field');
  if (wrap) wrap.classList.toggle('has-error', !!msg);
  if (input) {
    if (msg) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

/* Where the office adds the record a picker looks for (a person, a branch…). */
function whereToAdd(ref) {
  const form = { person: 'person', unit: 'branch', meeting: 'meeting', volunteer: 'volunteer' }[ref];
  const f = form && S.forms[form];
  return f ? 'thêm ở mục “' + f.label + '” (trong Danh mục) trước, rồi quay lại đây.' : 'thêm mới trước.';
}

/* One field of a form: its label, its input, its error line. Returns {root, set, read}. */
function makeField(f) {
  const id = 'fld-' + f.name;
  const errId = 'err-' + f.name;
  const label = el('label', { for: id, class: 'label' }, f.label, f.required ? el('span', { class: 'req', 'aria-hidden': 'true', text: ' *' }) : null);
  const err = el('p', { id: errId, class: 'field-error', hidden: true });
  const help = f.help ? el('p', { id: 'help-' + f.name, class: 'help', text: f.help }) : null;
  const described = [errId, help ? 'help-' + f.name : null].filter(Boolean).join(' ');
  const root = el('div', { class: 'field field-' + f.type, 'data-field': f.name });
  let ctl;

  if (f.type === 'date') {
    const input = el('input', { id, type: 'text', class: 'input input-date', inputmode: 'numeric', autocomplete: 'off',
      placeholder: 'ngày/tháng/năm', maxlength: '10', 'aria-describedby': described, 'data-field': f.name,
      on: { input: markDirty, change: () => {
        const r = parseDate(input.value);
        if (r.iso) input.value = vnDate(r.iso);
        whenPointerFree(() => setFieldError(f.name, r.error || ''));
      } } });
    if (f.required) input.setAttribute('aria-required', 'true');
    const btn = el('button', { type: 'button', class: 'cal-btn', 'aria-label': 'Chọn ngày trên lịch: ' + f.label,
      'aria-haspopup': 'dialog', 'aria-expanded': 'false', 'data-calendar': f.name,
      on: { click: () => { if (openCalendar.current && openCalendar.current.button === btn) closeCalendar(); else openCalendar(input, btn); } } }, icon('cal'));
    root.append(label, el('div', { class: 'date' }, input, btn));
    ctl = {
      set(v) { input.value = vnDate(v); },
      read() { const r = parseDate(input.value); return r.iso ? { value: r.iso } : r; },
    };
  } else if (f.type === 'choice') {
    const sel = el('select', { id, class: 'input', 'aria-describedby': described, 'data-field': f.name, on: { change: markDirty } },
      el('option', { value: '', text: f.required ? '— Chọn —' : '(không ghi)' }),
      (f.choices || []).map((c) => el('option', { value: c.code, text: c.label })));
    if (f.required) sel.setAttribute('aria-required', 'true');
    root.append(label, sel);
    ctl = { set(v) { sel.value = v === null || v === undefined ? '' : String(v); }, read() { return sel.value ? { value: sel.value } : { empty: true }; } };
  } else if (f.type === 'bool') {
    const box = el('input', { id, type: 'checkbox', class: 'check', 'aria-describedby': described, 'data-field': f.name, on: { change: markDirty } });
    root.classList.add('field-inline');
    root.append(el('div', { class: 'check-row' }, box, label));
    ctl = { set(v) { box.checked = v === true || v === 1 || v === '1'; }, read() { return { value: box.checked }; } };
  } else if (f.type === 'ref' || f.type === 'refs') {
    const p = makePicker(f, f.type === 'refs');
    p.input.setAttribute('aria-describedby', described);
    if (f.required) p.input.setAttribute('aria-required', 'true');
    root.append(label, p.root);
    ctl = { set: p.set, read: p.read };
  } else if (f.type === 'int') {
    const input = el('input', { id, type: 'text', class: 'input input-int', inputmode: 'numeric', autocomplete: 'off',
      'aria-describedby': described, 'data-field': f.name, on: { input: markDirty } });
    if (f.required) input.setAttribute('aria-required', 'true');
    root.append(label, input);
    ctl = {
      set(v) { input.value = v === null || v === undefined ? '' : String(v); },
      read() {
        const r = parseInt10(input.value);
        if (r.value === undefined) return r;
        const lo = f.min === undefined || f.min === null ? 0 : f.min;
        const hi = f.max === undefined || f.max === null ? null : f.max;
        /* a year (birth year, the year rated) is written without grouping, and two
         * digits typed for it ("98") get the example of four */
        const isYear = lo >= 1000 && hi !== null && hi <= 9999;
        const num = isYear ? String : fmtNum;
        if (isYear && r.value >= 0 && r.value < 100) return { error: 'Viết năm đủ bốn chữ số, ví dụ ' + (r.value < 40 ? 2000 + r.value : 1900 + r.value) };
        if (r.value < lo || (hi !== null && r.value > hi)) return { error: 'Phải từ ' + num(lo) + (hi !== null ? ' đến ' + num(hi) : ' trở lên') };
        return r;
      },
    };
  } else {
    const long = f.multiline || (f.max && f.max > 300);
    const input = long
      ? el('textarea', { id, class: 'input', rows: '3', 'aria-describedby': described, 'data-field': f.name, on: { input: markDirty } })
      : el('input', { id, type: 'text', class: 'input', autocomplete: 'off', 'aria-describedby': described, 'data-field': f.name, on: { input: markDirty } });
    if (f.required) input.setAttribute('aria-required', 'true');
    root.append(label, input);
    ctl = {
      set(v) { input.value = v === null || v === undefined ? '' : String(v); },
      read() {
        const t = input.value.normalize('NFC').trim();
        if (!t) return { empty: true };
        /* the schema's limits are bytes of UTF-8 */
        const bytes = new TextEncoder().encode(t).length;
        if (f.max && bytes > f.max) return { error: 'Dài quá: tối đa ' + f.max + ' byte (đang có ' + bytes + '); hãy viết ngắn lại' };
        return { value: t };
      },
    };
  }
  if (help) root.append(help);
  root.append(err);
  return { root, field: f, set: ctl.set, read: ctl.read };
}

/* ------------------------------------------------------------------ router */

function route() {
  const h = decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
  const parts = h.split('/').filter(Boolean);
  closeCalendar();
  S.view++;
  S.reloadList = null;
  S.dirty = false;
  setNavCurrent(parts[0] === 'ho-so' ? parts[1] : parts[0] || 'home');
  closeMenu();
  if (parts.length === 0) return viewHome();
  if (parts[0] === 'dong-bo') return viewSync();
  if (parts[0] === 'so-lieu') return viewFigures(parts[1]);
  if (parts[0] === 'ho-so' && S.forms[parts[1]]) {
    if (parts.length === 2) return viewList(S.forms[parts[1]]);
    return viewRecord(S.forms[parts[1]], parts[2] === 'moi' ? null : parts[2], parts[3]);
  }
  return viewMissing();
}

let lastHash = location.hash;
async function onHashChange() {
  if (S.dirty && location.hash !== lastHash) {
    const target = location.hash;
    history.replaceState(null, '', lastHash || '#/');
    const leave = await confirmDialog('Bỏ những gì vừa nhập?', 'Bản ghi này chưa được lưu. Nếu rời trang, những gì vừa nhập sẽ mất.', 'Bỏ, rời trang', true);
    if (!leave) return;
    S.dirty = false;
    history.replaceState(null, '', target);
  }
  lastHash = location.hash;
  route();
}
window.addEventListener('hashchange', onHashChange);
window.addEventListener('beforeunload', (ev) => { if (S.dirty) { ev.preventDefault(); ev.returnValue = ''; } });

function go(hash) { if (location.hash === hash) route(); else location.hash = hash; }

/* Replaces the content of <main>, gives it a heading and moves focus there (so a
 * keyboard or screen-reader user knows the screen changed). */
function screen(title, ...content) {
  const main = $('#main');
  const h = el('h1', { tabindex: '-1', text: title });
  main.replaceChildren(h, ...content);
  document.title = title + ' — Liên Kết';
  if (screen.initial) h.focus({ preventScroll: false });
  screen.initial = true;
  window.scrollTo(0, 0);
  return main;
}

function viewMissing() {
  screen('Không có trang này', el('p', null, el('a', { href: '#/', text: 'Về trang đầu' })));
}

/* ------------------------------------------------------------------ navigation */

function officeName() {
  const o = S.meta.office;
  return (o && typeof o === 'object') ? (o.unit_name || o.name || '') : (o || '');
}
function officeId() {
  const o = S.meta.office;
  return (o && typeof o === 'object') ? (o.unit_id || o.unit || '') : '';
}

function buildNav() {
  const ul = $('#nav-list');
  const item = (key, href, text) => el('li', null, el('a', { href, 'data-nav': key, text }));
  ul.replaceChildren(
    item('home', '#/', 'Trang đầu'),
    /* from the menu a list starts afresh; back from a record it keeps its search and page */
    ...S.meta.forms.map((f) => {
      const li = item(f.key, '#/ho-so/' + f.key, f.label);
      li.firstChild.addEventListener('click', () => { delete S.lists[f.key]; if (location.hash === '#/ho-so/' + f.key) route(); });
      return li;
    }),
    item('so-lieu', '#/so-lieu', 'Tỉnh sẽ thấy gì về đơn vị mình'),
    item('dong-bo', '#/dong-bo', 'Đồng bộ với tỉnh'));
  $('#office').textContent = officeName();
}
function setNavCurrent(key) {
  $$('#nav-list a').forEach((a) => {
    if (a.dataset.nav === key) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
}
function closeMenu() {
  document.body.classList.remove('menu-open');
  $('#menu-toggle').setAttribute('aria-expanded', 'false');
}
$('#menu-toggle').addEventListener('click', () => {
  const open = !document.body.classList.contains('menu-open');
  document.body.classList.toggle('menu-open', open);
  $('#menu-toggle').setAttribute('aria-expanded', open ? 'true' : 'false');
  if (open) { const a = $('#nav-list a'); if (a) a.focus(); }
});
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && document.body.classList.contains('menu-open')) { closeMenu(); $('#menu-toggle').focus(); }
});

/* ------------------------------------------------------------------ home */

function viewHome() {
  const name = officeName();
  const syncBox = el('section', { class: 'card', 'aria-labelledby': 'home-sync' }, el('h2', { id: 'home-sync', text: 'Đồng bộ với tỉnh' }));
  const syncBody = el('div', { id: 'sync-summary' });
  syncBox.append(syncBody, el('div', { class: 'actions' },
    el('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'sync', text: 'Đồng bộ ngay', on: { click: startSync } }),
    el('a', { class: 'btn', href: '#/dong-bo', text: 'Xem chi tiết' })));
  const add = el('section', { class: 'card', 'aria-labelledby': 'home-add' }, el('h2', { id: 'home-add', text: 'Ghi vào sổ' }),
    el('ul', { class: 'tiles' }, S.meta.forms.filter((f) => !f.readonly).map((f) => el('li', null,
      el('a', { class: 'tile', href: '#/ho-so/' + f.key, text: f.label })))));
  const fig = el('section', { class: 'card', 'aria-labelledby': 'home-fig' }, el('h2', { id: 'home-fig', text: 'Tỉnh sẽ thấy gì về đơn vị mình' }),
    el('p', { text: 'Các số liệu năm nay của đơn vị, tính ngay trên máy này, đặt cạnh năm trước — trước cả khi đồng bộ.' }),
    el('a', { class: 'btn', href: '#/so-lieu', text: 'Xem số liệu' }));
  screen(name ? 'Sổ của ' + name : 'Sổ của đơn vị', syncBox, add, fig);
  renderSyncSummary(S.sync);
  refreshSync();
}

/* ------------------------------------------------------------------ sync */

/* The time as the server wrote it (Vietnam time, "2026-12-07T21:03:00+07:00"), not
 * converted to the browser's zone. */
function fmtDateTime(iso) {
  if (!iso) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (m) return m[4] + ':' + m[5] + ' ngày ' + m[3] + '/' + m[2] + '/' + m[1];
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ' ngày ' + pad2(d.getDate()) + '/' + pad2(d.getMonth() + 1) + '/' + d.getFullYear();
}
const PHASES = {
  hello: 'Đang chào máy chủ của tỉnh', connecting: 'Đang kết nối với máy chủ của tỉnh',
  push: 'Đang gửi thay đổi', sending: 'Đang gửi thay đổi', pull: 'Đang nhận số liệu từ tỉnh',
  receiving: 'Đang nhận số liệu từ tỉnh', done: 'Xong', idle: '', failed: 'Chưa đồng bộ được',
};
function phaseText(s) { return s.phase_label || PHASES[s.phase] || 'Đang đồng bộ'; }

function renderBadge(s) {
  const b = $('#sync-badge');
  if (!s) { b.textContent = 'Đồng bộ'; b.className = 'sync-badge'; return; }
  let text, cls;
  if (s.running) { text = 'Đang đồng bộ…'; cls = 'run'; }
  else if (s.refused && s.refused.length) { text = 'Tỉnh từ chối ' + s.refused.length; cls = 'warn'; }
  else if (s.error && s.error_code === 'unreachable') { text = 'Chờ có mạng'; cls = 'wait'; }
  else if (s.error) { text = 'Chưa đồng bộ được'; cls = 'warn'; }
  else if (s.pending) { text = fmtNum(s.pending) + ' thay đổi chờ gửi'; cls = 'wait'; }
  else if (s.last_ok) { text = 'Đã đồng bộ'; cls = 'ok'; }
  else { text = 'Chưa đồng bộ lần nào'; cls = 'wait'; }
  b.textContent = text;
  b.className = 'sync-badge ' + cls;
}

/* The short block shown on the home screen and at the top of the sync screen. */
function renderSyncSummary(s) {
  const box = $('#sync-summary');
  if (!box) return;
  if (!s) { box.replaceChildren(el('p', { text: 'Đang hỏi tình trạng đồng bộ…' })); return; }
  const rows = [];
  if (s.running) {
    const total = s.total || 0;
    const prog = el('progress', { id: 'sync-progress', max: String(Math.max(total, 1)), value: String(Math.min(s.sent || 0, Math.max(total, 1))), 'aria-label': 'Tiến độ gửi' });
    if (!total) prog.removeAttribute('value');
    rows.push(el('p', { class: 'sync-phase', text: phaseText(s) + (total ? ': đã gửi ' + fmtNum(s.sent || 0) + ' / ' + fmtNum(total) + ' thay đổi' : '…') }), prog);
  }
  rows.push(el('dl', { class: 'facts' },
    el('dt', { text: 'Lần đồng bộ thành công gần nhất' }),
    el('dd', { id: 'sync-last-ok', text: s.last_ok ? fmtDateTime(s.last_ok) : 'Chưa có lần nào' }),
    el('dt', { text: 'Thay đổi chờ gửi lên tỉnh' }),
    el('dd', { id: 'sync-pending', 'data-value': String(s.pending || 0), text: s.pending ? fmtNum(s.pending) : 'Không có — tỉnh đã có đủ' }),
    el('dt', { text: 'Tỉnh từ chối' }),
    el('dd', { id: 'sync-refused-count', text: s.refused && s.refused.length ? fmtNum(s.refused.length) + ' bản ghi (xem bên dưới)' : 'Không có' })));
  /* no network is the laptop's normal day, not a fault: said calmly, with what happens */
  if (s.error && !s.running && s.error_code === 'unreachable')
    rows.push(el('p', { class: 'msg msg-info', id: 'sync-error', text: 'Máy chưa nối được tới máy chủ của Tỉnh (không có mạng, hoặc máy chủ đang tạm nghỉ). Không sao: những gì đã ghi vẫn nằm an toàn trên máy này và sẽ tự gửi khi có mạng. Có mạng rồi thì bấm "Đồng bộ ngay".' }));
  else if (s.error && !s.running) rows.push(el('p', { class: 'msg msg-error', id: 'sync-error', text: s.error }));
  box.replaceChildren(...rows);
}

function renderRefused(s) {
  const box = $('#sync-refused');
  if (!box) return;
  const list = (s && s.refused) || [];
  if (!list.length) { box.replaceChildren(el('p', { text: 'Tỉnh không từ chối bản ghi nào.' })); return; }
  box.replaceChildren(el('ul', { class: 'refused' }, list.map((r) => {
    const form = S.forms[r.form];
    /* the record's own words (its name, its date) when the server gives them */
    const own = r.label && (!form || r.label !== form.label) ? r.label : '';
    const what = form ? form.label + (own ? ': ' + own : ' (mã ' + (r.id || '').slice(0, 8) + '…)') : (own || r.id || '');
    return el('li', { class: 'refused-item', 'data-form': r.form || '', 'data-id': r.id || '' },
      form && r.id ? el('a', { href: '#/ho-so/' + r.form + '/' + encodeURIComponent(r.id) + (r.field ? '/' + encodeURIComponent(r.field) : ''), text: what }) : el('strong', { text: what }),
      el('p', { class: 'refused-reason', text: 'Lý do: ' + (r.message || r.reason || 'không rõ') +
        (r.field && form ? ' (ô “' + fieldOf(form, r.field).label + '”)' : '') }),
      r.advice ? el('p', { class: 'refused-advice', text: 'Cần làm: ' + r.advice } ) : null);
  })));
}

async function refreshSync() {
  clearTimeout(S.syncTimer);
  const wasRunning = !!(S.sync && S.sync.running);
  try {
    S.sync = await api('GET', '/api/sync');
  } catch (e) {
    if (e.status === 401 || e.status === 403) return;
  }
  /* a sync that just ended may have brought rows from the province: the list on
   * screen is read again (its search and page kept) */
  if (wasRunning && S.sync && !S.sync.running && S.reloadList) S.reloadList();
  /* a laptop just set up learns its office's name from its first sync's unit tree */
  if (S.sync && !S.sync.running && S.sync.last_ok && S.sync.last_ok !== S.namedAt && officeName() === UNNAMED) {
    S.namedAt = S.sync.last_ok;
    try {
      const m = await api('GET', '/api/meta');
      if (m && m.office) {
        S.meta.office = m.office;
        $('#office').textContent = officeName();
        if (!location.hash || location.hash === '#/') route();
      }
    } catch (e) { /* the next poll tries again only after another sync */ }
  }
  renderBadge(S.sync);
  renderSyncSummary(S.sync);
  renderRefused(S.sync);
  const btns = $$('[data-action="sync"]');
  btns.forEach((b) => { b.disabled = !!(S.sync && S.sync.running); });
  S.syncTimer = setTimeout(refreshSync, S.sync && S.sync.running ? SYNC_POLL_MS : SYNC_IDLE_POLL_MS);
}

async function startSync() {
  try {
    await api('POST', '/api/sync', {});
    toast('Đã bắt đầu đồng bộ');
  } catch (e) {
    if (e.status !== 409) { toast(errorText(e), 'bad'); return; }
  }
  refreshSync();
}

function viewSync() {
  screen('Đồng bộ với tỉnh',
    el('section', { class: 'card' },
      el('p', { text: 'Máy này tự gửi những gì đã ghi lên máy chủ của tỉnh mỗi khi có mạng. Bấm “Đồng bộ ngay” để gửi liền.' }),
      el('div', { id: 'sync-summary', 'aria-live': 'polite' }),
      el('div', { class: 'actions' }, el('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'sync', text: 'Đồng bộ ngay', on: { click: startSync } }))),
    el('section', { class: 'card', 'aria-labelledby': 'refused-h' },
      el('h2', { id: 'refused-h', text: 'Những bản ghi tỉnh từ chối' }),
      el('div', { id: 'sync-refused' })));
  renderSyncSummary(S.sync);
  renderRefused(S.sync);
  refreshSync();
}

/* ------------------------------------------------------------------ lists */

function listState(form) {
  if (!S.lists[form.key]) S.lists[form.key] = { q: '', sort: '', dir: 'asc', offset: 0 };
  return S.lists[form.key];
}
function fieldOf(form, name) { return (form.fields || []).find((f) => f.name === name) || { name, label: name, type: 'text' }; }

/* The text of a cell: what the server displays, else the value made readable. */
function cellText(form, row, name) {
  const d = row.display && row.display[name];
  if (d !== undefined && d !== null) return Array.isArray(d) ? d.join(', ') : String(d);
  const v = row.values ? row.values[name] : undefined;
  if (v === null || v === undefined) return '';
  const f = fieldOf(form, name);
  if (f.type === 'date') return vnDate(v);
  if (f.type === 'bool') return v === true || v === 1 ? 'Có' : 'Không';
  if (f.type === 'choice') { const c = (f.choices || []).find((x) => x.code === v); return c ? c.label : String(v); }
  if (f.type === 'int') return fmtNum(v);
  return Array.isArray(v) ? v.join(', ') : String(v);
}
function rowTitle(form, row) {
  const cols = form.list_columns && form.list_columns.length ? form.list_columns : (form.fields || []).map((f) => f.name);
  return cellText(form, row, cols[0]) || 'bản ghi';
}

function viewList(form) {
  const st = listState(form);
  const view = S.view;
  const cols = form.list_columns && form.list_columns.length ? form.list_columns : (form.fields || []).slice(0, 4).map((f) => f.name);
  const search = el('input', { id: 'list-search', type: 'search', class: 'input', value: st.q, autocomplete: 'off',
    placeholder: 'Gõ tên, ngày… (không cần dấu)' });
  const count = el('p', { id: 'list-count', class: 'count', 'aria-live': 'polite' });
  const table = el('table', { class: 'list', 'data-form': form.key });
  const caption = el('caption', { class: 'sr-only', text: 'Danh sách ' + form.label });
  const pager = el('nav', { class: 'pager', 'aria-label': 'Chuyển trang' });
  const importBox = el('div', { id: 'import-result', 'aria-live': 'polite' });
  const listMsg = el('p', { id: 'list-msg', class: 'msg msg-error', role: 'alert', hidden: true });

  let timer = 0;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { st.q = search.value.trim(); st.offset = 0; load(); }, 250);
  });

  function header() {
    return el('thead', null, el('tr', null, cols.map((c) => {
      const f = fieldOf(form, c);
      const on = st.sort === c;
      const th = el('th', { scope: 'col', 'aria-sort': on ? (st.dir === 'asc' ? 'ascending' : 'descending') : 'none' },
        el('button', { type: 'button', class: 'sort', 'data-sort': c,
          on: { click: () => { if (st.sort === c) st.dir = st.dir === 'asc' ? 'desc' : 'asc'; else { st.sort = c; st.dir = 'asc'; } st.offset = 0; load(); } } },
        f.label, el('span', { class: 'sort-mark', 'aria-hidden': 'true', text: on ? (st.dir === 'asc' ? ' ▲' : ' ▼') : '' })));
      return th;
    }), form.readonly ? null : el('th', { scope: 'col', text: 'Thao tác' })));
  }

  async function remove(row) {
    const ok = await confirmDialog('Xóa bản ghi này?',
      form.label + ': “' + rowTitle(form, row) + '”. Bản ghi sẽ bị xóa trên máy này, và ở tỉnh sau lần đồng bộ tới.', 'Xóa', true);
    if (!ok) return;
    listMsg.hidden = true;
    try {
      await api('DELETE', '/api/forms/' + form.key + '/' + encodeURIComponent(row.id));
      toast('Đã xóa');
      refreshSync();
      load();
    } catch (e) {
      listMsg.textContent = 'Chưa xóa “' + rowTitle(form, row) + '”: ' + errorText(e);
      listMsg.hidden = false;
    }
  }

  async function load() {
    const qs = new URLSearchParams({ q: st.q, offset: String(st.offset), limit: String(PAGE_SIZE) });
    if (st.sort) { qs.set('sort', st.sort); qs.set('dir', st.dir); }
    count.textContent = 'Đang tải…';
    let data;
    try {
      data = await api('GET', '/api/forms/' + form.key + '?' + qs);
    } catch (e) {
      if (view !== S.view) return;
      count.textContent = errorText(e);
      return;
    }
    if (view !== S.view) return;
    const rows = data.rows || [];
    const total = data.total || 0;
    if (st.offset && st.offset >= total) { st.offset = Math.max(0, Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE); if (total) { load(); return; } }
    count.textContent = total
      ? (st.q ? 'Tìm thấy ' : 'Có ') + fmtNum(total) + ' bản ghi' + (total > rows.length ? '; đang xem ' + fmtNum(st.offset + 1) + '–' + fmtNum(st.offset + rows.length) : '')
      : (st.q ? 'Không tìm thấy bản ghi nào khớp với “' + st.q + '”' : 'Chưa có bản ghi nào.');
    const body = el('tbody', null, rows.map((row) => {
      const href = '#/ho-so/' + form.key + '/' + encodeURIComponent(row.id);
      const cells = cols.map((c, i) => el('td', { 'data-label': fieldOf(form, c).label, 'data-col': c },
        i === 0 ? el('a', { href, text: cellText(form, row, c) || '(chưa có tên)' }) : cellText(form, row, c)));
      const act = form.readonly ? null : el('td', { class: 'row-actions' },
        el('a', { class: 'btn btn-small', href, text: 'Sửa', 'aria-label': 'Sửa ' + rowTitle(form, row) }),
        el('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-action': 'delete', text: 'Xóa',
          'aria-label': 'Xóa ' + rowTitle(form, row), on: { click: () => remove(row) } }));
      return el('tr', { 'data-id': row.id }, cells, act);
    }));
    table.replaceChildren(caption, header(), body);
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const page = Math.floor(st.offset / PAGE_SIZE) + 1;
    const to = (p) => () => { st.offset = (p - 1) * PAGE_SIZE; load(); table.scrollIntoView({ block: 'start' }); };
    pager.replaceChildren(
      el('button', { type: 'button', class: 'btn btn-small', text: '« Đầu', disabled: page <= 1, on: { click: to(1) } }),
      el('button', { type: 'button', class: 'btn btn-small', 'data-action': 'prev', text: '‹ Trước', disabled: page <= 1, on: { click: to(page - 1) } }),
      el('span', { class: 'page-of', text: 'Trang ' + fmtNum(page) + ' / ' + fmtNum(pages) }),
      el('button', { type: 'button', class: 'btn btn-small', 'data-action': 'next', text: 'Sau ›', disabled: page >= pages, on: { click: to(page + 1) } }),
      el('button', { type: 'button', class: 'btn btn-small', text: 'Cuối »', disabled: page >= pages, on: { click: to(pages) } }));
    pager.hidden = pages <= 1;
  }

  const fileInput = el('input', { id: 'import-file', type: 'file', class: 'file', accept: '.csv,text/csv',
    on: { change: () => importFile(form, fileInput, importBox, load) } });
  const tools = el('div', { class: 'list-tools' },
    el('div', { class: 'search' }, el('label', { for: 'list-search', class: 'label', text: 'Tìm trong ' + form.label.toLowerCase() }), search),
    el('div', { class: 'actions' },
      form.readonly ? null : el('a', { class: 'btn btn-primary', href: '#/ho-so/' + form.key + '/moi', 'data-action': 'new', text: '+ Thêm mới' }),
      el('a', { class: 'btn', href: '/api/export/' + form.key + '.csv', download: form.key + '.csv', 'data-action': 'export', text: 'Xuất ra Excel (CSV)' }),
      form.readonly ? null : el('span', { class: 'file-wrap' }, el('label', { for: 'import-file', class: 'btn', text: 'Nhập từ tệp CSV' }), fileInput)));
  S.reloadList = load;
  screen(form.label, tools, importBox, listMsg, count, el('div', { class: 'table-wrap' }, table), pager);
  load();
}

/* Sends a CSV file whole; the server imports all of it or nothing and lists the lines
 * it refused, in Vietnamese. */
async function importFile(form, input, box, reload) {
  const file = input.files && input.files[0];
  if (!file) return;
  box.replaceChildren(el('p', { text: 'Đang nhập “' + file.name + '”…' }));
  let buf;
  try { buf = await file.arrayBuffer(); } catch (e) { box.replaceChildren(el('p', { class: 'msg msg-error', text: 'Không đọc được tệp “' + file.name + '”' })); return; }
  try {
    const r = await api('POST', '/api/import/' + form.key, buf);
    if (r && r.errors && r.errors.length) throw new ApiError(422, r);
    const n = r && (r.imported !== undefined ? r.imported : r.count);
    box.replaceChildren(el('p', { class: 'msg msg-ok', id: 'import-ok', text: 'Đã nhập ' + fmtNum(n || 0) + ' dòng từ “' + file.name + '”.' }));
    refreshSync();
    reload();
  } catch (e) {
    if (e.status === 401 || e.status === 403) return;
    const lines = (e.data && (e.data.errors || e.data.lines)) || [];
    const items = Array.isArray(lines) ? lines : Object.entries(lines).map(([line, message]) => ({ line, message }));
    box.replaceChildren(el('div', { class: 'msg msg-error', id: 'import-errors' },
      el('p', { text: 'Chưa nhập dòng nào từ “' + file.name + '”: ' + (items.length ? 'hãy sửa những dòng sau trong tệp rồi nhập lại.' : errorText(e)) }),
      items.length ? el('ul', null, items.map((it) => el('li', { text: (it.line ? 'Dòng ' + it.line + ': ' : '') + (it.message || it.error || '') + (it.field ? ' (cột ' + it.field + ')' : '') }))) : null));
  }
  input.value = '';
}

/* ------------------------------------------------------------------ one record */

async function viewRecord(form, id, focusField) {
  const view = S.view;
  let rec = null;
  if (id) {
    screen(form.label, el('p', { text: 'Đang mở…' }));
    try {
      rec = await api('GET', '/api/forms/' + form.key + '/' + encodeURIComponent(id));
    } catch (e) {
      if (view !== S.view) return;
      screen(form.label, el('p', { class: 'msg msg-error', text: e.status === 404 ? 'Không còn bản ghi này (có thể đã bị xóa).' : errorText(e) }),
        el('a', { href: '#/ho-so/' + form.key, text: 'Về danh sách' }));
      return;
    }
    if (view !== S.view) return;
  }
  const readonly = !!form.readonly;
  const fields = (form.fields || []).map(makeField);
  const summary = el('div', { id: 'form-summary', class: 'msg msg-error', role: 'alert', tabindex: '-1', hidden: true });
  const formEl = el('form', { class: 'record', novalidate: true, 'data-form': form.key, 'aria-describedby': 'form-note' },
    el('p', { id: 'form-note', class: 'help', text: 'Ô có dấu * là bắt buộc. Ngày viết ngày/tháng/năm, ví dụ 14/03/2021.' }),
    summary,
    el('div', { class: 'grid' }, fields.map((x) => x.root)));
  /* a refs field's names come as an array in `labels` (names may hold commas) */
  if (rec) fields.forEach((x) => { const n = x.field.name; x.set(rec.values ? rec.values[n] : null,
    (rec.labels && rec.labels[n]) || (rec.display ? rec.display[n] : null)); });
  else fields.forEach((x) => {
    const f = x.field;
    if (f.default === undefined || f.default === null) return;
    x.set(f.default, f.default_label || (f.default === officeId() ? officeName() : null));
  });
  if (readonly) $$('input, select, textarea, button', formEl).forEach((e) => { e.disabled = true; });

  const save = el('button', { type: 'submit', class: 'btn btn-primary', 'data-action': 'save', text: 'Lưu', hidden: readonly });
  const again = id || readonly ? null : el('button', { type: 'button', class: 'btn', 'data-action': 'save-new', text: 'Lưu và thêm tiếp', on: { click: () => submit(true) } });
  const del = id && !readonly ? el('button', { type: 'button', class: 'btn btn-danger', 'data-action': 'delete', text: 'Xóa bản ghi này',
    on: { click: async () => {
      const ok = await confirmDialog('Xóa bản ghi này?', form.label + ': “' + rowTitle(form, rec) + '”. Bản ghi sẽ bị xóa trên máy này, và ở tỉnh sau lần đồng bộ tới.', 'Xóa', true);
      if (!ok) return;
      try { await api('DELETE', '/api/forms/' + form.key + '/' + encodeURIComponent(id)); S.dirty = false; toast('Đã xóa'); refreshSync(); go('#/ho-so/' + form.key); } catch (e) { showErrors(fields, summary, { '': errorText(e) }, 'Chưa xóa được bản ghi này.'); }
    } } }) : null;
  formEl.append(el('div', { class: 'actions' }, save, again,
    el('a', { class: 'btn', href: '#/ho-so/' + form.key, text: readonly ? 'Về danh sách' : 'Hủy' }), del));

  let busy = false;
  async function submit(another) {
    if (busy) return;
    const values = {};
    const errors = {};
    for (const x of fields) {
      const f = x.field;
      const r = x.read();
      if (r.error) errors[f.name] = r.error;
      else if (r.empty) {
        if (f.required) errors[f.name] = f.type === 'ref' || f.type === 'refs' ? 'Chưa chọn ' + f.label.toLowerCase() : (f.type === 'choice' ? 'Hãy chọn một mục' : 'Chưa điền ' + f.label.toLowerCase());
        else if (id || f.type === 'refs') values[f.name] = f.type === 'refs' ? [] : null;
      } else values[f.name] = r.value;
    }
    showErrors(fields, summary, errors);
    if (Object.keys(errors).length) return;
    busy = true;
    save.disabled = true;
    try {
      const r = id ? await api('PUT', '/api/forms/' + form.key + '/' + encodeURIComponent(id), { values })
        : await api('POST', '/api/forms/' + form.key, { values });
      S.dirty = false;
      toast('Đã lưu');
      refreshSync();
      if (another) go('#/ho-so/' + form.key + '/moi');
      else go('#/ho-so/' + form.key);
      return r;
    } catch (e) {
      if (e.status === 422 && e.data && e.data.errors) showErrors(fields, summary, e.data.errors);
      else showErrors(fields, summary, { '': errorText(e) });
    } finally {
      busy = false;
      save.disabled = false;
    }
  }
  formEl.addEventListener('submit', (ev) => { ev.preventDefault(); submit(false); });
  screen((id ? (readonly ? '' : 'Sửa: ') : 'Thêm mới: ') + form.label, formEl);
  /* opened from "what the province refused": the field it named */
  const refused = focusField && S.sync && (S.sync.refused || []).find((r) => r.form === form.key && r.id === id && r.field === focusField);
  if (refused) setFieldError(focusField, 'Tỉnh từ chối: ' + (refused.message || '') + (refused.advice ? ' — ' + refused.advice : ''));
  if (focusField) { const i = document.getElementById('fld-' + focusField); if (i) i.focus(); }
}

/* Errors at their fields, and a summary at the top linking to each; focus goes to the
 * summary so a screen reader reads it, and the first field is one Tab away. */
function showErrors(fields, summary, errors, title) {
  const known = new Set(fields.map((x) => x.field.name));
  fields.forEach((x) => setFieldError(x.field.name, errors[x.field.name] || ''));
  const keys = Object.keys(errors);
  if (!keys.length) { summary.hidden = true; summary.replaceChildren(); return; }
  const items = [];
  for (const k of keys) {
    if (known.has(k)) {
      const f = fields.find((x) => x.field.name === k).field;
      items.push(el('li', null, el('a', { href: '#fld-' + k, 'data-focus': 'fld-' + k, text: f.label + ': ' + errors[k],
        on: { click: (ev) => { ev.preventDefault(); const i = document.getElementById('fld-' + k); if (i) i.focus(); } } })));
    } else items.push(el('li', { text: (k && k !== '_' ? k + ': ' : '') + errors[k] }));
  }
  summary.replaceChildren(el('p', { text: title || ('Chưa lưu: ' + (keys.length === 1 ? 'có một chỗ cần sửa.' : 'có ' + keys.length + ' chỗ cần sửa.')) }), el('ul', null, items));
  summary.hidden = false;
  summary.focus();
}

/* ------------------------------------------------------------------ figures */

function fmtCell(c) {
  if (!c) return '—';
  let t = fmtNum(c.value);
  if (c.of !== null && c.of !== undefined) {
    t += ' / ' + fmtNum(c.of);
    if (c.share !== null && c.share !== undefined) t += ' (' + PCT.format(c.share) + ')';
  }
  if (c.split) t += ' (tách)';
  return t;
}

async function viewFigures(yearArg) {
  const view = S.view;
  const thisYear = (isoParts(S.meta.today) || { y: new Date().getFullYear() }).y;
  const year = /^\d{4}$/.test(yearArg || '') ? +yearArg : thisYear;
  const sel = el('select', { id: 'fig-year', class: 'input',
    on: { change: () => go('#/so-lieu/' + sel.value) } });
  for (let y = thisYear; y >= Math.max(YEAR_MIN, thisYear - 15); y--) sel.append(el('option', { value: String(y), text: String(y), selected: y === year }));
  const body = el('div', { id: 'figures', 'aria-live': 'polite' }, el('p', { text: 'Đang tính…' }));
  screen('Tỉnh sẽ thấy gì về đơn vị mình',
    el('p', { class: 'lead', text: 'Tính ngay trên máy này, từ sổ của đơn vị, bằng cùng cách tỉnh tính — tỉnh sẽ thấy đúng các số này sau khi đồng bộ.' }),
    el('div', { class: 'year-pick' }, el('label', { for: 'fig-year', class: 'label', text: 'Năm' }), sel),
    body);
  let rep;
  try {
    rep = await api('GET', '/api/figures?year=' + year);
  } catch (e) {
    if (view === S.view) body.replaceChildren(el('p', { class: 'msg msg-error', text: e.status === 404 && !(e.data && e.data.error)
      ? 'Chưa tính được số liệu: máy này chưa đồng bộ với tỉnh lần nào (danh sách đơn vị đến cùng lần đồng bộ đầu tiên). Hãy bấm “Đồng bộ ngay”.' : errorText(e) }));
    return;
  }
  if (view !== S.view) return;
  const prevYear = rep.previous_year || year - 1;
  const note = el('p', { class: 'help', text: (rep.unit_name ? rep.unit_name + ' — ' : '') + 'năm ' + rep.year +
    (rep.as_of ? ', tính đến ngày ' + vnDate(rep.as_of) : '') + '; cột bên phải là năm ' + prevYear +
    (rep.previous_as_of ? ' (đến ngày ' + vnDate(rep.previous_as_of) + ')' : '') + '.' });
  const tbl = el('table', { class: 'figures' },
    el('caption', { class: 'sr-only', text: 'Số liệu năm ' + rep.year + ' và năm ' + prevYear }),
    el('thead', null, el('tr', null, el('th', { scope: 'col', text: 'Chỉ tiêu' }),
      el('th', { scope: 'col', text: 'Năm ' + rep.year }), el('th', { scope: 'col', text: 'Năm ' + prevYear }),
      el('th', { scope: 'col', text: 'Mục tiêu' }))));
  for (const f of rep.figures || []) {
    const tb = el('tbody', { 'data-figure': f.key });
    const ms = f.measures && f.measures.length ? f.measures : [f];
    tb.append(el('tr', { class: 'fig-head' }, el('th', { scope: 'rowgroup', colspan: '4' },
      el('span', { class: 'fig-no', text: f.number + '. ' }), f.label,
      f.target_note ? el('span', { class: 'fig-note', text: ' — ' + f.target_note }) : null)));
    /* a breakdown row (key "participations.vaccination") that is 0 in both years is
     * folded away behind a button, so the figures that say something stand out */
    const quiet = (m) => (m.key || '').includes('.') && !m.value && (!m.previous || !m.previous.value);
    const folded = ms.filter(quiet).length;
    ms.forEach((m) => {
      const prev = m.previous;
      tb.append(el('tr', { 'data-measure': m.key || f.key, class: quiet(m) ? 'quiet' : null, hidden: quiet(m) },
        el('th', { scope: 'row', class: 'measure', text: m.label || f.label }),
        el('td', { 'data-label': 'Năm ' + rep.year, 'data-column': 'value', 'data-value': String(m.value), 'data-of': m.of === null || m.of === undefined ? '' : String(m.of), text: fmtCell(m) }),
        el('td', { 'data-label': 'Năm ' + prevYear, 'data-column': 'previous', 'data-value': prev ? String(prev.value) : '', 'data-of': prev && prev.of !== null && prev.of !== undefined ? String(prev.of) : '', text: prev ? fmtCell(prev) : '—' }),
        el('td', { 'data-label': 'Mục tiêu', text: m.target === null || m.target === undefined ? '' : fmtNum(m.target) })));
    });
    if (folded) {
      const btn = el('button', { type: 'button', class: 'btn btn-small', 'aria-expanded': 'false',
        text: 'Xem ' + folded + ' dòng chi tiết bằng 0',
        on: { click: () => {
          const open = btn.getAttribute('aria-expanded') !== 'true';
          $$('tr.quiet', tb).forEach((tr) => { tr.hidden = !open; });
          btn.setAttribute('aria-expanded', open ? 'true' : 'false');
          btn.textContent = open ? 'Ẩn các dòng bằng 0' : 'Xem ' + folded + ' dòng chi tiết bằng 0';
        } } });
      tb.append(el('tr', { class: 'fold' }, el('td', { colspan: '4' }, btn)));
    }
    tbl.append(tb);
  }
  body.replaceChildren(note, el('div', { class: 'table-wrap' }, tbl));
}

/* ------------------------------------------------------------------ first screen */

/* The laptop has no database yet (GET /api/meta says setup): the secretary pastes the
 * join code from the province's sheet, sees which office it sets up, confirms
 * (docs/app-api.md §9). Nothing else of the app is shown until then. */
function viewSetup() {
  document.body.classList.add('setup');
  const code = el('textarea', { id: 'fld-code', class: 'input input-code', rows: '4', autocomplete: 'off',
    autocapitalize: 'off', spellcheck: 'false', 'aria-describedby': 'err-code help-code', 'aria-required': 'true',
    placeholder: 'LK1.…' });
  const err = el('p', { id: 'err-code', class: 'field-error', role: 'alert', hidden: true });
  const field = el('div', { class: 'field field-code' },
    el('label', { for: 'fld-code', class: 'label', text: 'Mã tham gia' }),
    el('p', { id: 'help-code', class: 'help', text: 'Mã in dưới mục "Mã tham gia" trên Phiếu kết nối Liên Kết mà Tỉnh đoàn gửi cho văn phòng, bắt đầu bằng LK1. Mã dài và có thể xuống dòng: hãy chép và dán cả đoạn (Ctrl+V), hoặc gõ cẩn thận từng ký tự.' }),
    code, err);
  const checkBtn = el('button', { type: 'submit', class: 'btn btn-primary', 'data-action': 'check', text: 'Kiểm tra mã' });
  const office = el('section', { id: 'setup-office', class: 'card', 'aria-live': 'polite', hidden: true });
  const form = el('form', { class: 'card', novalidate: true }, field, el('div', { class: 'actions' }, checkBtn));
  let checked = null; /* the code whose office is shown */

  function showError(text) {
    err.textContent = text || '';
    err.hidden = !text;
    field.classList.toggle('has-error', !!text);
    if (text) code.setAttribute('aria-invalid', 'true'); else code.removeAttribute('aria-invalid');
  }
  function busy(btn, on, label) {
    btn.disabled = on;
    if (label) btn.textContent = label;
  }
  code.addEventListener('input', () => {
    if (checked !== null && code.value !== checked) { checked = null; office.hidden = true; office.replaceChildren(); }
    showError('');
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = code.value.trim();
    if (!text) { showError('Hãy dán mã tham gia in trên phiếu (bắt đầu bằng LK1.).'); code.focus(); return; }
    showError('');
    busy(checkBtn, true, 'Đang hỏi máy chủ của Tỉnh…');
    office.hidden = true;
    try {
      const o = await api('POST', '/api/setup/check', { code: text });
      checked = code.value;
      showOffice(o, text);
    } catch (e) {
      showError(errorText(e));
      code.focus();
    } finally {
      busy(checkBtn, false, 'Kiểm tra mã');
    }
  });

  function showOffice(o, text) {
    const row = (k, v) => (v ? [el('dt', { text: k }), el('dd', { text: v })] : []);
    const name = o.unit_name || 'Đơn vị có mã ' + o.unit;
    const joinBtn = el('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'join', text: 'Cài đặt cho đơn vị này' });
    const again = el('button', { type: 'button', class: 'btn', 'data-action': 'other-code', text: 'Nhập mã khác',
      on: { click: () => { checked = null; office.hidden = true; code.value = ''; code.focus(); } } });
    const done = el('p', { class: 'msg', hidden: true, role: 'status' });
    office.replaceChildren(
      el('h2', { id: 'setup-office-title', tabindex: '-1', text: 'Mã này cài máy cho đơn vị:' }),
      el('p', { class: 'setup-name', text: name }),
      el('dl', { class: 'setup-facts' },
        row('Loại đơn vị', o.unit_kind), row('Mã hành chính', o.unit_code), row('Thuộc', o.parent_name),
        row('Máy chủ của Tỉnh', o.hub)),
      el('p', { text: 'Nếu đúng là đơn vị của mình, bấm "Cài đặt cho đơn vị này". Nếu không phải, đừng cài: hãy gọi Tỉnh đoàn để xin đúng phiếu.' }),
      el('div', { class: 'actions' }, joinBtn, again), done);
    office.hidden = false;
    $('#setup-office-title').focus();
    office.scrollIntoView({ block: 'start' }); /* the office and both buttons in view */
    joinBtn.addEventListener('click', async () => {
      busy(joinBtn, true, 'Đang cài đặt…');
      again.disabled = true;
      try {
        await api('POST', '/api/setup/join', { code: text });
        done.className = 'msg msg-ok';
        done.textContent = 'Đã cài đặt xong cho ' + name + '. Đang mở sổ và đồng bộ lần đầu với Tỉnh…';
        done.hidden = false;
        document.body.classList.remove('setup');
        if (location.hash && location.hash !== '#/') location.hash = '#/';
        await start();
      } catch (e) {
        done.className = 'msg msg-error';
        done.textContent = errorText(e);
        done.hidden = false;
        busy(joinBtn, false, 'Cài đặt cho đơn vị này');
        again.disabled = false;
      }
    });
  }

  screen('Cài đặt Liên Kết cho văn phòng',
    el('p', { class: 'lead', text: 'Đây là lần đầu mở Liên Kết trên máy này. Chỉ cần mã tham gia trên phiếu Tỉnh đoàn gửi: máy sẽ tự nhận đơn vị, máy chủ của Tỉnh và khóa truy cập từ mã đó.' }),
    form, office);
  code.focus();
}

/* ------------------------------------------------------------------ start */

async function start() {
  try {
    S.meta = await api('GET', '/api/meta');
  } catch (e) {
    if (e.status !== 401 && e.status !== 403)
      $('#main').replaceChildren(el('p', { class: 'msg msg-error', text: errorText(e) }));
    return;
  }
  S.csrf = S.meta.csrf || '';
  if (S.meta.setup) { viewSetup(); return; }
  for (const f of S.meta.forms || []) S.forms[f.key] = f;
  buildNav();
  route();
  refreshSync();
}
start();
})();
