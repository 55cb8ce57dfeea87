/**
 * @fileoverview The stylesheet and the script embedded in the HTML report. Both are inline (the report is one file that
 * works from file:// with no network) and allowed by hash in the report's Content-Security-Policy, so nothing else — no
 * injected <script>, no inline event handler, no remote resource — can run or load.
 *
 * The script only ever writes text with `textContent` (never `innerHTML`): the strings it shows come from targets.
 * It is plain ES2017 for any browser; the Chromium test (test/report-html.test.ts) fails on any console error it throws.
 */

export const HTML_CSS = `
:root{--fg:#1b1f24;--muted:#4a525c;--bg:#fff;--line:#c9ced6;--soft:#f3f5f8;--link:#0b57b0;
--critical:#8a0b1a;--high:#b3261e;--medium:#8a5300;--low:#1f5f8b;--info:#4a525c;
--optimal:#1b7a3a;--advanced:#3a7d1b;--initial:#9a6200;--traditional:#b3261e;--na:#8a929c}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--fg);background:var(--bg);margin:0}
main{max-width:1200px;margin:0 auto;padding:16px 20px 40px}
a{color:var(--link)}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.3em;margin:1.4em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}
h3{font-size:1.12em;margin:1.1em 0 .4em}h4{display:inline;font-size:1em;margin:0}
.meta,.note{color:var(--muted)}
nav ul{list-style:none;padding:0;margin:.4em 0;display:flex;flex-wrap:wrap;gap:.3em 1em}
.skip{position:absolute;left:-10000px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px;z-index:2}
.overall{display:flex;align-items:center;gap:24px;flex-wrap:wrap}
.big{font-size:2.6em;font-weight:700;line-height:1}
table{border-collapse:collapse;width:100%;margin:.4em 0 1em}
th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
thead th{background:var(--soft)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tbody th[scope=rowgroup]{background:var(--soft);font-weight:600;word-break:break-all}
.ev{white-space:pre-wrap;word-break:break-word;margin:0;font:12px/1.35 ui-monospace,Menlo,Consolas,monospace}
.msg,.res{word-break:break-word}
.sev{display:inline-block;min-width:5.2em;text-align:center;border-radius:3px;padding:0 4px;color:#fff;font-weight:600;font-size:.85em}
.sev-critical{background:var(--critical)}.sev-high{background:var(--high)}.sev-medium{background:var(--medium)}
.sev-low{background:var(--low)}.sev-info{background:var(--info)}
.state{font-size:.85em;border:1px solid var(--line);border-radius:3px;padding:0 4px;white-space:nowrap}
.state-new{border-color:var(--high);color:var(--high);font-weight:600}.state-suppressed{color:var(--muted);font-style:italic}
.gauge .track{fill:#e3e7ec}.gauge .fill-optimal{fill:var(--optimal)}.gauge .fill-advanced{fill:var(--advanced)}
.gauge .fill-initial{fill:var(--initial)}.gauge .fill-traditional{fill:var(--traditional)}.gauge .tick{stroke:#fff;stroke-width:1}
.stage{font-weight:600}
details.caps{font-size:.9em;margin:.2em 0}details.caps ul{margin:.2em 0;padding-left:1.2em}
td{overflow-wrap:anywhere}
details.rule{border:1px solid var(--line);border-radius:4px;margin:.5em 0;padding:.2em .6em}
details.rule>summary{cursor:pointer;padding:.2em 0}
.rulemeta p{margin:.3em 0}
form.filters{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-end;background:var(--soft);padding:8px 10px;border-radius:4px}
form.filters label{display:flex;flex-direction:column;font-size:.85em;color:var(--muted)}
form.filters input,form.filters select{font:inherit;padding:3px 4px;min-width:10em}
.pager{display:flex;gap:10px;align-items:center;margin:.6em 0}
.pager button{font:inherit;padding:3px 10px}
.chart text{font:11px system-ui,sans-serif;fill:var(--muted)}.chart .grid{stroke:#e3e7ec}
.chart .line{fill:none;stroke-width:2}.chart .overall{stroke-width:3.5}
.l0{stroke:#1b1f24}.l1{stroke:#0b57b0}.l2{stroke:#b3261e;stroke-dasharray:6 3}.l3{stroke:#1b7a3a;stroke-dasharray:2 3}
.l4{stroke:#8a5300;stroke-dasharray:8 3 2 3}.l5{stroke:#6b3fa0;stroke-dasharray:1 5}
.dot0{fill:#1b1f24}.dot1{fill:#0b57b0}.dot2{fill:#b3261e}.dot3{fill:#1b7a3a}.dot4{fill:#8a5300}.dot5{fill:#6b3fa0}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;padding:0;font-size:.9em}
[hidden]{display:none!important}
@media print{form.filters,.pager,nav,.skip{display:none!important}body{font-size:11px}main{max-width:none;padding:0}
details.rule{break-inside:avoid}a{color:inherit}tr{break-inside:avoid}}
`

/** The page script: filters and paging over the findings embedded as JSON. */
export const HTML_JS = `
(function () {
  'use strict';
  var dataNode = document.getElementById('zt-data');
  if (!dataNode) return;
  var data = JSON.parse(dataNode.textContent || '{}');
  var rules = data.rules, targets = data.targets, rows = data.rows, sevs = data.severities, states = data.states;
  var size = data.pageSize || 200;
  // A cut page holds the first rows.length of data.failed failed findings (highest severity first): said in the status line.
  var total = data.failed || rows.length, cut = total > rows.length;
  var form = document.getElementById('zt-filters');
  var out = document.getElementById('zt-findings');
  var status = document.getElementById('zt-status');
  var pager = document.getElementById('zt-pager');
  var prev = document.getElementById('zt-prev');
  var next = document.getElementById('zt-next');
  var fText = document.getElementById('f-text'), fFamily = document.getElementById('f-family');
  var fSeverity = document.getElementById('f-severity'), fPillar = document.getElementById('f-pillar'), fState = document.getElementById('f-state');
  var hay = null, shown = rows, page = 0;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function haystack(r) {
    var rule = rules[r[1]];
    return (rule.id + ' ' + rule.title + ' ' + targets[r[2]] + ' ' + r[3] + ' ' + r[4] + ' ' + r[5] + ' ' + r[7]).toLowerCase();
  }
  function apply() {
    var text = fText.value.trim().toLowerCase(), fam = fFamily.value, sev = fSeverity.value, pil = fPillar.value, st = fState.value;
    if (text && !hay) { hay = new Array(rows.length); for (var i = 0; i < rows.length; i++) hay[i] = haystack(rows[i]); }
    var res = [];
    for (var j = 0; j < rows.length; j++) {
      var r = rows[j], rule = rules[r[1]];
      if (sev && sevs[r[0]] !== sev) continue;
      if (fam && rule.family !== fam) continue;
      if (pil && rule.pillar !== pil) continue;
      if (st === 'open' && states[r[6]] === 'suppressed') continue;
      if (st && st !== 'open' && states[r[6]] !== st) continue;
      if (text && hay[j].indexOf(text) < 0) continue;
      res.push(r);
    }
    shown = res;
    page = 0;
    render();
  }
  function ruleBlock(rule) {
    var d = el('details', 'rule');
    d.open = true;
    var s = el('summary');
    var h = el('h4', null, rule.title + ' ');
    h.appendChild(el('code', null, rule.id));
    s.appendChild(h);
    d.appendChild(s);
    var meta = el('div', 'rulemeta');
    meta.appendChild(el('p', null, rule.family + ' · ' + rule.pillar));
    if (rule.description) meta.appendChild(el('p', null, rule.description));
    if (rule.remediation) { var p = el('p'); p.appendChild(el('strong', null, 'Remediation: ')); p.appendChild(document.createTextNode(rule.remediation)); meta.appendChild(p); }
    if (rule.helpUri) { var a = el('a', null, 'Rule documentation'); a.href = rule.helpUri; a.rel = 'noopener noreferrer'; var q = el('p'); q.appendChild(a); meta.appendChild(q); }
    d.appendChild(meta);
    var t = el('table');
    var head = el('thead'), tr = el('tr');
    ['Resource', 'Finding', 'Evidence', 'State'].forEach(function (c) { var th = el('th', null, c); th.scope = 'col'; tr.appendChild(th); });
    head.appendChild(tr);
    t.appendChild(head);
    d.appendChild(t);
    return { node: d, table: t };
  }
  function build(slice) {
    var frag = document.createDocumentFragment();
    var sev = -1, ruleIx = -1, target = -1, cur = null, body = null;
    for (var i = 0; i < slice.length; i++) {
      var r = slice[i];
      if (r[0] !== sev) {
        sev = r[0]; ruleIx = -1;
        var h3 = el('h3');
        h3.appendChild(el('span', 'sev sev-' + sevs[sev], sevs[sev]));
        frag.appendChild(h3);
      }
      if (r[1] !== ruleIx) { ruleIx = r[1]; target = -1; cur = ruleBlock(rules[ruleIx]); frag.appendChild(cur.node); }
      if (r[2] !== target) {
        target = r[2];
        body = el('tbody');
        var trh = el('tr'), th = el('th', null, targets[target]);
        th.scope = 'rowgroup'; th.colSpan = 4;
        trh.appendChild(th); body.appendChild(trh); cur.table.appendChild(body);
      }
      var tr = el('tr');
      tr.appendChild(el('td', 'res', r[3]));
      tr.appendChild(el('td', 'msg', r[4]));
      var td = el('td'); td.appendChild(el('pre', 'ev', r[5])); tr.appendChild(td);
      var sc = el('td'); sc.appendChild(el('span', 'state state-' + states[r[6]], states[r[6]]));
      if (r[7]) sc.appendChild(el('div', 'note', r[7]));
      tr.appendChild(sc);
      body.appendChild(tr);
    }
    return frag;
  }
  function render() {
    var start = page * size, slice = shown.slice(start, start + size);
    out.replaceChildren(build(slice));
    status.textContent = shown.length
      ? 'Showing ' + (start + 1) + '–' + (start + slice.length) + ' of ' + shown.length + ' findings' + (shown.length !== rows.length ? ' (filtered from ' + rows.length + ')' : '') +
        (cut ? '; this page holds the first ' + rows.length + ' of ' + total + ' failed findings' : '')
      : 'No finding matches the filters (' + (cut ? 'the first ' + rows.length + ' of ' + total + ' failed findings searched' : rows.length + ' in all') + ').';
    prev.disabled = page === 0;
    next.disabled = start + size >= shown.length;
  }
  form.hidden = false;
  pager.hidden = false;
  var more = document.getElementById('zt-more');
  if (more) more.hidden = true;
  form.addEventListener('input', apply);
  form.addEventListener('change', apply);
  form.addEventListener('submit', function (e) { e.preventDefault(); apply(); });
  prev.addEventListener('click', function () { if (page > 0) { page--; render(); out.scrollIntoView(); } });
  next.addEventListener('click', function () { if ((page + 1) * size < shown.length) { page++; render(); out.scrollIntoView(); } });
  window.addEventListener('beforeprint', function () { var ds = document.querySelectorAll('details'); for (var i = 0; i < ds.length; i++) ds[i].open = true; });
  apply();
  document.documentElement.setAttribute('data-ready', '1');
})();
`
