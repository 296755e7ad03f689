// The upload page: send one file to /v1/extract, show what the service read. Plain JS, no build step, no CDN.
"use strict";
const T = {
  zh: {
    title: "政府信息公开工作年度报告提取", api: "接口文档", lang: "English",
    drop: "把报告文件拖到这里，或点击选择文件（PDF、DOCX、DOC、WPS、HTML、XLSX、OFD、TXT 等）", apikey: "API 密钥（如需要）",
    meta: "基本信息", dljson: "下载 JSON", dlcsv: "下载 CSV", tables: "统计表", findings: "校验结果", sections: "章节",
    high: "可信 ≥ 0.9", mid: "需核对 0.6–0.9", low: "存疑 < 0.6", review: "只看需要核对的数值",
    reading: "正在读取 {name} …", done: "{name}：{n} 个数值，{f} 条校验，{s} 个章节（{ms} 毫秒）",
    agency: "机关", year: "年度", template: "报告模板", period: "统计期间", format: "文件格式", pages: "页数",
    doctitle: "标题", contact: "联系方式", website: "网站", findings_ok: "所有算术校验均通过。", other: "其他数值",
    expected: "应为", actual: "实际", table: { active: "主动公开政府信息情况", requests: "收到和处理政府信息公开申请情况",
      review_litigation: "政府信息公开行政复议、行政诉讼情况", stats: "统计数据" },
    item: "项目", conf: "置信度", unit: "单位", value: "数量", warnings: "提示", reviewnone: "没有需要核对的数值。",
  },
  en: {
    title: "Government information-disclosure annual report extraction", api: "API docs", lang: "中文",
    drop: "Drop a report here or click to choose a file (PDF, DOCX, DOC, WPS, HTML, XLSX, OFD, TXT…)", apikey: "API key (if required)",
    meta: "Report", dljson: "Download JSON", dlcsv: "Download CSV", tables: "Tables", findings: "Validation", sections: "Sections",
    high: "reliable ≥ 0.9", mid: "check 0.6–0.9", low: "doubtful < 0.6", review: "Show only values that need review",
    reading: "Reading {name} …", done: "{name}: {n} values, {f} findings, {s} sections ({ms} ms)",
    agency: "Agency", year: "Year", template: "Template", period: "Period", format: "Format", pages: "Pages",
    doctitle: "Title", contact: "Contact", website: "Website", findings_ok: "Every arithmetic check passed.", other: "Other values",
    expected: "expected", actual: "actual", table: { active: "Proactive disclosure", requests: "Requests received and handled",
      review_litigation: "Administrative review and litigation", stats: "Statistics" },
    item: "Item", conf: "confidence", unit: "Unit", value: "Value", warnings: "Warnings", reviewnone: "No value needs review.",
  },
};
const REVIEW_BELOW = 0.9;
let lang = localStorage.getItem("govreport.lang") || "zh";
let catalogue = null;
let last = null; // {name, result}

const $ = (id) => document.getElementById(id);
const t = (key, vars = {}) => String(T[lang][key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  for (const kid of kids) e.append(kid instanceof Node ? kid : document.createTextNode(kid ?? ""));
  return e;
};
const confClass = (c) => (c >= REVIEW_BELOW ? "high" : c >= 0.6 ? "mid" : "low");

function applyLang() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  $("lang").textContent = t("lang");
  if (last) render(last.name, last.result, last.ms);
}

async function loadCatalogue() {
  if (!catalogue) { // kept only once read: a 401 before the key was typed in must not stick
    const r = await fetch("/v1/indicators", { headers: authHeaders() });
    if (r.ok) catalogue = (await r.json()).indicators;
  }
  return catalogue || [];
}

function authHeaders() {
  const key = $("apikey").value.trim();
  return key ? { "X-API-Key": key } : {};
}

async function upload(file) {
  const status = $("status");
  status.className = "";
  status.textContent = t("reading", { name: file.name });
  const form = new FormData();
  form.append("file", file, file.name);
  const t0 = performance.now();
  try {
    await loadCatalogue();
    const r = await fetch("/v1/extract", {
      method: "POST", body: form,
      headers: { ...authHeaders(), "Accept-Language": lang === "zh" ? "zh-CN" : "en" },
    });
    const isJson = /json/.test(r.headers.get("content-type") || "");
    if (!isJson) { // e.g. a proxy's HTML error page
      status.className = "error";
      status.textContent = `HTTP ${r.status} ${r.statusText}`;
      $("result").hidden = true;
      return;
    }
    const body = await r.json();
    if (!r.ok) {
      status.className = "error";
      status.dataset.problem = body.type || "";
      status.replaceChildren(`${body.title}: ${body.detail} `, el("a", { href: body.type ? new URL(body.type).pathname : "/docs" }, "→"));
      $("result").hidden = true;
      return;
    }
    last = { name: file.name, file, result: body, ms: Math.round(performance.now() - t0) };
    render(last.name, last.result, last.ms);
  } catch (err) {
    status.className = "error";
    status.textContent = String(err);
  }
}

function labelFor(def, template) {
  // The catalogue label is "legacy label / revised label" when an id belongs to both forms.
  const parts = def.label.split(" / ");
  const label = parts.length > 1 && template === "revised_2019" ? parts[1] : parts[0];
  return label.replace(/\s*\([^()]*\bform\b[^()]*\)$/, ""); // the catalogue's note of the form edition a row is from
}

function tableOf(def, template) {
  return def.tables.length > 1 && template === "revised_2019" ? def.tables[1] : def.tables[0];
}

function valueCell(ind) {
  if (!ind) return el("td", { class: "blank" }, "");
  const shown = ind.value === null ? "—" : String(ind.value);
  const review = ind.confidence < REVIEW_BELOW ? "needs-review" : "";
  return el("td", { class: `v ${confClass(ind.confidence)} ${review}`, "data-id": ind.id, "data-confidence": ind.confidence.toFixed(3),
    title: `${ind.id} · ${t("conf")} ${ind.confidence.toFixed(2)}${ind.raw ? ` · “${ind.raw}”` : ""}` },
    shown, el("small", {}, ind.confidence.toFixed(2)));
}

function rowEl(label, inds) {
  const review = inds.some((i) => i && i.confidence < REVIEW_BELOW);
  return el("tr", { class: review ? "needs-review" : "" }, el("th", {}, label), ...inds.map(valueCell));
}

// A form table whose labels are "row·column" (the 2019+ form's grids): rows with the same extracted columns
// form one block under one header row, as the printed form does (e.g. its three headers in table 二).
function matrixTable(tableEl, defs, byId, label) {
  const rows = [];
  const index = new Map();
  for (const d of defs) {
    const l = label(d), cut = l.lastIndexOf("·");
    const row = l.slice(0, cut).replace(/·/g, " "), col = l.slice(cut + 1);
    if (!index.has(row)) { index.set(row, { row, cells: new Map() }); rows.push(index.get(row)); }
    index.get(row).cells.set(col, byId.get(d.id));
  }
  let header = null;
  for (const r of rows) {
    // columns in the order the document printed them (source column), else the catalogue's
    const cols = [...r.cells].filter(([, ind]) => ind).sort(([, a], [, b]) => (a.source?.col ?? 0) - (b.source?.col ?? 0)).map(([c]) => c);
    if (!cols.length) continue;
    const key = cols.join("\u0001");
    if (key !== header) {
      tableEl.append(el("tr", { class: "head" }, el("th", {}, t("item")), ...cols.map((c) => el("th", {}, c))));
      header = key;
    }
    tableEl.append(rowEl(r.row, cols.map((c) => r.cells.get(c))));
  }
}

function listTable(tableEl, defs, byId, label) {
  tableEl.classList.add("list");
  tableEl.append(el("tr", { class: "head" }, el("th", {}, t("item")), el("th", {}, t("unit")), el("th", {}, t("value"))));
  for (const d of defs) {
    const ind = byId.get(d.id);
    const review = ind && ind.confidence < REVIEW_BELOW;
    tableEl.append(el("tr", { class: review ? "needs-review" : "" }, el("th", {}, label(d)), el("td", { class: "unit" }, d.unit || ""), valueCell(ind)));
  }
}

function renderTables(result) {
  const template = result.document.template.value;
  const byId = new Map(result.indicators.map((i) => [i.id, i]));
  const used = new Set();
  const box = $("tables");
  box.replaceChildren();
  const groups = new Map(); // form table → its catalogue rows, in catalogue (= form) order
  for (const def of catalogue || []) {
    if (template !== "unknown" && !def.templates.includes(template)) continue;
    const table = tableOf(def, template);
    if (!groups.has(table)) groups.set(table, []);
    groups.get(table).push(def);
  }
  const names = T[lang].table;
  // tables in the order the document printed them (first source position of their values)
  const at = (i) => [i.source?.page ?? 0, i.source?.table ?? 0, i.source?.row ?? 0, i.source?.line ?? 0];
  const first = (defs) => defs.filter((d) => byId.has(d.id)).map((d) => at(byId.get(d.id)))
    .reduce((a, b) => (cmp(b, a) < 0 ? b : a), [Infinity]);
  const cmp = (a, b) => { for (let k = 0; k < Math.max(a.length, b.length); k++) if ((a[k] ?? 0) !== (b[k] ?? 0)) return (a[k] ?? 0) - (b[k] ?? 0); return 0; };
  const ordered = [...groups].sort(([, a], [, b]) => cmp(first(a), first(b)));
  for (const [table, defs] of ordered) {
    if (!defs.some((d) => byId.has(d.id))) continue;
    defs.forEach((d) => byId.has(d.id) && used.add(d.id));
    const label = (d) => labelFor(d, template);
    const tableEl = el("table", { "data-table": table }, el("caption", {}, names[table] || table));
    if (defs.every((d) => label(d).includes("·"))) matrixTable(tableEl, defs, byId, label);
    else listTable(tableEl, defs, byId, label);
    box.append(tableEl);
  }
  const rest = result.indicators.filter((i) => !used.has(i.id));
  if (rest.length) {
    const other = el("table", { "data-table": "other", class: "list" }, el("caption", {}, t("other")));
    other.append(el("tr", { class: "head" }, el("th", {}, t("item")), el("th", {}, t("unit")), el("th", {}, t("value"))));
    for (const i of rest) other.append(el("tr", { class: i.confidence < REVIEW_BELOW ? "needs-review" : "" }, el("th", {}, i.label || i.id), el("td", { class: "unit" }, i.unit || ""), valueCell(i)));
    box.append(other);
  }
  const toReview = result.indicators.filter((i) => i.confidence < REVIEW_BELOW).length;
  $("review-count").textContent = lang === "zh" ? `（${toReview}）` : ` (${toReview})`;
  $("review-none").hidden = toReview > 0;
}

function render(name, result, ms) {
  const doc = result.document;
  const meta = $("meta");
  meta.replaceChildren();
  const contact = doc.contact || {};
  const rows = [
    ["doctitle", doc.title], ["agency", doc.agency.value], ["year", doc.report_year.value],
    ["template", [...new Set([doc.template.value, doc.template.variant].filter(Boolean))].join(" · ")],
    ["period", [doc.period_start.value, doc.period_end.value].filter(Boolean).join(" – ")],
    ["format", doc.format], ["pages", doc.pages],
    ["contact", [contact.address?.value, contact.postcode?.value, contact.phone?.value, contact.email?.value].filter(Boolean).join(" · ")],
    ["website", doc.website.value],
  ];
  for (const [key, value] of rows) {
    if (value === null || value === undefined || value === "") continue;
    meta.append(el("dt", {}, t(key)), el("dd", { "data-field": key }, String(value)));
  }
  renderTables(result);
  const findings = $("findings");
  findings.replaceChildren();
  const labels = new Map((catalogue || []).map((d) => [d.id, labelFor(d, doc.template.value)]));
  if (!result.validation.length) findings.append(el("li", { class: "ok" }, t("findings_ok")));
  for (const f of result.validation) {
    const what = labels.has(f.target) ? `${labels.get(f.target)} (${f.target})` : f.target;
    findings.append(el("li", { class: "fail", "data-rule": f.rule, "data-target": f.target },
      `${what}: ${t("expected")} ${f.expected ?? "—"}, ${t("actual")} ${f.actual ?? "—"}${f.message ? ` — ${f.message}` : ""}`));
  }
  const warnings = $("warnings");
  warnings.replaceChildren(...(result.warnings || []).map((w) => el("li", { "data-code": w.code }, `${w.code}: ${w.message}`)));
  $("warnings-box").hidden = !(result.warnings || []).length;
  const sections = $("sections");
  sections.replaceChildren();
  for (const s of result.sections) {
    sections.append(el("details", { "data-key": s.key }, el("summary", {}, `${s.number ? s.number + "、" : ""}${s.heading} (${s.confidence.toFixed(2)})`), el("p", {}, s.text)));
  }
  $("status").className = "";
  $("status").textContent = t("done", { name, n: result.indicators.length, f: result.validation.length, s: result.sections.length, ms });
  $("result").hidden = false;
}

// The CSV is the service's own (`Accept: text/csv`): one implementation, the same columns as for API clients.
async function downloadCsv() {
  const form = new FormData();
  form.append("file", last.file, last.name);
  const r = await fetch("/v1/extract", { method: "POST", body: form, headers: { ...authHeaders(), Accept: "text/csv" } });
  if (!r.ok) { $("status").className = "error"; $("status").textContent = `CSV: ${r.status}`; return; }
  download(await r.blob(), "text/csv", `${stem()}.csv`);
}

function download(content, type, name) {
  const a = el("a", { href: URL.createObjectURL(content instanceof Blob ? content : new Blob([content], { type })), download: name });
  document.body.append(a); a.click(); a.remove();
}

const stem = () => (last ? last.name.replace(/\.[^.]+$/, "") : "report");
$("dl-json").addEventListener("click", () => last && download(JSON.stringify(last.result, null, 2), "application/json", `${stem()}.json`));
$("dl-csv").addEventListener("click", () => last && downloadCsv());
$("file").addEventListener("change", (e) => e.target.files[0] && upload(e.target.files[0]));
$("review").addEventListener("change", (e) => document.body.classList.toggle("review-only", e.target.checked));
$("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("govreport.lang", lang); applyLang(); });
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("click", (e) => { if (!e.target.closest("input, label")) $("file").click(); });
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("file").click(); } });
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]); });
applyLang();
