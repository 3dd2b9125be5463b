// imgcls review: the grid, an item's page, and decisions, in plain JavaScript (no build step, no network but this
// server). Everything shown comes from the catalog, which holds text from the web: it goes into the page as text
// (textContent), never as markup. The address (#/?label=cat&page=2, #/item/12) holds the view, so a reload keeps it.
"use strict";

const token = document.querySelector('meta[name="review-token"]').content;
const $ = (id) => document.getElementById(id);
const FACETS = [["label", "Label"], ["status", "Status"], ["reason", "Reason"], ["flag", "Flag"], ["split", "Split"], ["decided", "Decided by hand"]];
const FILTER_FIELDS = ["label", "status", "reason", "flag", "split", "cluster", "decided"];

const state = {
  query: {},            // filter fields, sort, page
  grid: null,           // the last /api/items reply
  focus: 0,             // index of the focused card on the page
  selected: new Map(),  // id -> revision
  anchor: null,         // index a shift-click range starts from
  allMatching: false,   // "select all N matching": the decision goes on the filter
  item: null,           // the last /api/items/:id reply, on an item's page
};

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function notify(message, kind) {
  const notice = $("notice");
  notice.textContent = message;
  notice.className = kind || "";
  notice.hidden = !message;
}

async function call(path, options) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = { error: `${response.status} ${response.statusText}` }; }
  if (!response.ok) {
    const error = new Error(body && body.error ? body.error : `${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function post(path, body) {
  return call(path, { method: "POST", headers: { "Content-Type": "application/json", "X-Review-Token": token }, body: JSON.stringify(body || {}) });
}

// The address <-> the view.

function parseHash() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search] = hash.split("?");
  const params = Object.fromEntries(new URLSearchParams(search || ""));
  const item = path.match(/^\/item\/(\d+)$/);
  // Only an address of this app's grid is a way back (not another site's).
  const back = (params.back || "").startsWith("#/") ? params.back : "#/";
  return item ? { view: "item", id: Number(item[1]), back } : { view: "grid", query: params };
}

function gridHash(query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== "" && !(key === "page" && value === "1")) params.set(key, value);
  const text = params.toString();
  return "#/" + (text ? "?" + text : "");
}

function go(query) {
  location.hash = gridHash(query);
}

window.addEventListener("hashchange", route);

async function route() {
  const where = parseHash();
  $("help").hidden = true;
  $("filters").hidden = where.view === "item";
  if (where.view === "item") {
    $("grid-view").hidden = true;
    $("item-view").hidden = false;
    await loadItem(where.id, where.back);
  } else {
    $("grid-view").hidden = false;
    $("item-view").hidden = true;
    const same = JSON.stringify(where.query) === JSON.stringify(state.query);
    if (!same) { state.selected.clear(); state.allMatching = false; state.focus = 0; }
    state.query = where.query;
    await loadGrid();
  }
}

// The grid.

async function loadGrid() {
  const params = new URLSearchParams(state.query);
  try {
    state.grid = await call("/api/items?" + params.toString());
  } catch (error) {
    notify(error.message, "error");
    return;
  }
  state.focus = Math.min(state.focus, Math.max(0, state.grid.items.length - 1));
  renderGrid();
}

function renderGrid() {
  const grid = state.grid;
  $("workspace").textContent = grid.workspace;
  $("summary").textContent = `${grid.catalog_items.toLocaleString()} items`;
  $("sort").value = grid.sort;
  const hint = $("split-hint");
  hint.hidden = grid.decided_since_split === 0;
  hint.textContent = `${grid.decided_since_split} item(s) decided on since the last split: run imgcls split, then imgcls train, to train on them.`;
  renderFilters(grid);
  renderLabelButtons(grid.labels);
  const cards = grid.items.map((item, index) => card(item, index));
  $("grid").replaceChildren(...(cards.length ? cards : [el("p", {}, "No items match this filter.")]));
  const pages = Math.max(1, Math.ceil(grid.total / grid.per_page));
  $("pager").replaceChildren(
    el("button", { type: "button", id: "previous-page", disabled: grid.page <= 1, onclick: () => page(-1) }, "← previous"),
    el("span", {}, `page ${grid.page.toLocaleString()} of ${pages.toLocaleString()} · ${grid.total.toLocaleString()} items`),
    el("button", { type: "button", id: "next-page", disabled: grid.page >= pages, onclick: () => page(1) }, "next →"));
  renderSelection();
}

function renderFilters(grid) {
  const parts = [];
  for (const [field, title] of FACETS) {
    const counts = grid.facets[field] || {};
    const current = state.query[field];
    const values = Object.keys(counts).sort((a, b) => field === "label" ? a.localeCompare(b) : counts[b] - counts[a]);
    if (current && !values.includes(current)) values.unshift(current);
    if (!values.length) continue;
    parts.push(el("h3", {}, title));
    parts.push(el("ul", {}, values.map((value) => {
      const on = current === value;
      const next = { ...state.query, page: undefined, [field]: on ? undefined : value };
      return el("li", {}, el("a", { href: gridHash(next), class: (on ? "on" : "") + (counts[value] ? "" : " zero"), "data-filter": `${field}=${value}` },
        el("span", {}, value), el("span", { class: "count" }, (counts[value] || 0).toLocaleString())));
    })));
  }
  if (state.query.cluster) {
    parts.unshift(el("h3", {}, "Cluster"), el("ul", {}, el("li", {}, el("a", { href: gridHash({ ...state.query, cluster: undefined, page: undefined }), class: "on" },
      el("span", {}, `cluster ${state.query.cluster}`), el("span", { class: "count" }, "×")))));
  }
  $("filters").replaceChildren(...parts);
}

function renderLabelButtons(labels) {
  $("label-list").replaceChildren(...labels.map((label) => el("option", { value: label })));
  $("label-buttons").replaceChildren(...labels.slice(0, 9).map((label, i) =>
    el("button", { type: "button", "data-label": label, title: `Set the label ${label} (${i + 1})`, onclick: () => decide({ action: "label", label }) },
      el("span", { class: "key" }, String(i + 1)), label)));
}

function picture(item, side) {
  if (!item.has_picture) return el("div", { class: "broken" }, `${item.status}${item.reason ? ": " + item.reason : ""}`, el("br"), item.message || "");
  const image = el("img", { src: `/api/items/${item.id}/thumbnail?side=${side}&v=${item.picture_version}`, alt: `item ${item.id}`, loading: "lazy" });
  image.addEventListener("error", async () => {
    // The server says why (the thumbnail's answer is an error in JSON): a truncated or corrupt stored file.
    let why = item.reason || "";
    try { await call(image.src); } catch (error) { why = error.message; }
    image.replaceWith(el("div", { class: "broken" }, `cannot show the picture: ${why}`));
  });
  return image;
}

function badges(item) {
  const list = [el("span", { class: `badge ${item.status}` }, item.reason ? `${item.status}: ${item.reason}` : item.status)];
  if (item.manual_status) list.push(el("span", { class: "badge manual" }, item.manual_status === "ok" ? "kept by hand" : "excluded by hand"));
  if (item.manual_label) list.push(el("span", { class: "badge manual" }, "labelled by hand"));
  for (const flag of item.flags) list.push(el("span", { class: "badge flag" }, flag));
  return list;
}

function card(item, index) {
  const classes = ["card", item.status];
  if (index === state.focus) classes.push("focused");
  if (state.allMatching || state.selected.has(item.id)) classes.push("selected");
  return el("div", { class: classes.join(" "), role: "gridcell", "data-id": item.id, "data-index": index,
    onclick: (event) => click(index, event), ondblclick: () => openItem(item.id) },
    el("div", { class: "picture" }, picture(item, 256)),
    el("div", { class: "caption" },
      el("div", { class: "line" }, el("span", { class: "label-name" }, item.label), el("span", {}, `#${item.id}`)),
      item.suggested_label ? el("div", { class: "suggested" }, `suggested: ${item.suggested_label}`) : null,
      el("div", {}, badges(item))));
}

function click(index, event) {
  const item = state.grid.items[index];
  state.allMatching = false;
  if (event.shiftKey && state.anchor !== null) {
    const [from, to] = [Math.min(state.anchor, index), Math.max(state.anchor, index)];
    for (let i = from; i <= to; i++) state.selected.set(state.grid.items[i].id, state.grid.items[i].revision);
  } else if (event.ctrlKey || event.metaKey) {
    toggle(item);
    state.anchor = index;
  } else {
    state.selected.clear();
    state.selected.set(item.id, item.revision);
    state.anchor = index;
  }
  state.focus = index;
  renderGrid();
}

function toggle(item) {
  if (state.selected.has(item.id)) state.selected.delete(item.id); else state.selected.set(item.id, item.revision);
}

function renderSelection() {
  const count = state.allMatching ? state.grid.matching : state.selected.size;
  $("selection").textContent = state.allMatching ? `all ${count.toLocaleString()} matching items selected`
    : count ? `${count} selected` : "no selection: keys act on the focused item";
  $("select-all").textContent = `Select all ${state.grid.matching.toLocaleString()} matching`;
  const focused = state.grid.items[state.focus];
  $("accept-suggestion").disabled = !(focused && focused.suggested_label);
}

function page(step) {
  const pages = Math.max(1, Math.ceil(state.grid.total / state.grid.per_page));
  const next = Math.min(pages, Math.max(1, state.grid.page + step));
  if (next !== state.grid.page) { state.focus = 0; go({ ...state.query, page: String(next) }); }
}

function moveFocus(step) {
  const items = state.grid.items;
  if (!items.length) return;
  const next = state.focus + step;
  if (next < 0 && state.grid.page > 1) return page(-1);
  if (next >= items.length) return page(1);
  state.focus = Math.max(0, Math.min(items.length - 1, next));
  renderGrid();
  const focused = document.querySelector(".card.focused");
  if (focused) focused.scrollIntoView({ block: "nearest" });
}

function columns() {
  const cards = document.querySelectorAll(".card");
  if (cards.length < 2) return 1;
  const top = cards[0].offsetTop;
  let n = 0;
  for (const c of cards) { if (c.offsetTop !== top) break; n++; }
  return Math.max(1, n);
}

// Decisions.

/// What a decision acts on: the filter (all matching), the selection, or the focused item (on an item's page: it).
function target() {
  if (!$("item-view").hidden && state.item) return { items: [{ id: state.item.item.id, revision: state.item.item.revision }] };
  if (state.allMatching) {
    const filter = {};
    for (const field of FILTER_FIELDS) if (state.query[field]) filter[field] = state.query[field];
    return { filter, expected: state.grid.matching };
  }
  if (state.selected.size) return { items: [...state.selected].map(([id, revision]) => ({ id, revision })) };
  const focused = state.grid && state.grid.items[state.focus];
  return focused ? { items: [{ id: focused.id, revision: focused.revision }] } : null;
}

async function decide(decision) {
  const on = target();
  if (!on) return;
  const noteInput = !$("item-view").hidden ? document.querySelector("#item-view .note") : $("note");
  const note = noteInput ? noteInput.value.trim() : "";
  const body = { ...decision, ...on };
  if (note && decision.action !== "label") body.note = note;
  try {
    const reply = await post("/api/decisions", body);
    notify(reply.message);
    if (noteInput) noteInput.value = "";
    state.selected.clear();
    state.allMatching = false;
  } catch (error) {
    notify(error.message, error.status === 409 ? "conflict" : "error");
  }
  await refresh();
}

async function acceptSuggestion() {
  const item = !$("item-view").hidden && state.item ? state.item.item : state.grid && state.grid.items[state.focus];
  if (item && item.suggested_label) {
    state.selected.clear();
    state.allMatching = false;
    await decide({ action: "label", label: item.suggested_label });
  }
}

async function undo() {
  try {
    const reply = await post("/api/undo", {});
    notify(reply.message);
  } catch (error) {
    notify(error.message, error.status === 409 ? "conflict" : "error");
  }
  await refresh();
}

async function refresh() {
  const where = parseHash();
  if (where.view === "item") await loadItem(where.id, where.back); else await loadGrid();
}

function askLabel() {
  const input = $("new-label");
  if (!$("item-view").hidden) { const other = document.querySelector("#item-view .new-label"); if (other) { other.focus(); return; } }
  input.focus();
  input.select();
}

function setTypedLabel(input) {
  const label = input.value.trim();
  if (!label) return notify("type a label first", "error");
  input.value = "";
  input.blur();
  decide({ action: "label", label });
}

// An item's page.

function openItem(id) {
  location.hash = `#/item/${id}?back=${encodeURIComponent(gridHash(state.query))}`;
}

async function loadItem(id, back) {
  try {
    state.item = await call(`/api/items/${id}`);
  } catch (error) {
    $("item-view").replaceChildren(el("p", {}, error.message), el("a", { href: back || "#/" }, "back to the grid"));
    return;
  }
  const { item, cluster, history, labels } = state.item;
  const rows = [["id", item.id], ["source", item.source], ["final URL", item.final_url], ["label", item.label], ["status", item.status],
    ["reason", item.reason], ["message", item.message], ["flags", item.flags.join(", ")], ["suggested label", item.suggested_label],
    ["label score", item.label_score], ["off-topic score", item.off_topic_score], ["nsfw score", item.nsfw_score],
    ["size", item.width ? `${item.width}x${item.height} ${item.format || ""}, ${item.bytes} bytes` : null], ["sha256", item.sha256],
    ["pHash", item.phash], ["detail hash", item.detail_hash], ["cluster", item.cluster], ["duplicate of", item.duplicate_of], ["split", item.split],
    ["decided by hand", [item.manual_status && (item.manual_status === "ok" ? "kept" : "excluded"), item.manual_label && "label"].filter(Boolean).join(", ")],
    ["revision", item.revision]].filter(([, value]) => value !== null && value !== undefined && value !== "");
  const full = item.has_picture ? el("img", { src: `/api/items/${item.id}/file`, alt: `item ${item.id}` }) : picture(item, 512);
  const typed = el("input", { type: "text", class: "new-label", list: "label-list", maxlength: "200", placeholder: "any label, or a new one" });
  typed.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); setTypedLabel(typed); } });
  $("label-list").replaceChildren(...labels.map((label) => el("option", { value: label })));
  const view = [
    el("div", { class: "item-head" }, el("a", { href: back || "#/", id: "back" }, "← grid"), el("strong", {}, `item ${item.id}`), badges(item)),
    el("div", { class: "item-head" },
      el("button", { type: "button", onclick: () => decide({ action: "keep" }) }, "Keep"),
      el("input", { type: "text", class: "note", maxlength: "500", placeholder: "reason (optional)", "aria-label": "Reason for the decision" }),
      el("button", { type: "button", onclick: () => decide({ action: "exclude" }) }, "Exclude"),
      labels.slice(0, 9).map((label, i) => el("button", { type: "button", "data-label": label, onclick: () => decide({ action: "label", label }) }, `${i + 1} ${label}`)),
      item.suggested_label ? el("button", { type: "button", onclick: acceptSuggestion }, `Accept ${item.suggested_label}`) : null,
      typed, el("button", { type: "button", onclick: () => setTypedLabel(typed) }, "Set label")),
    el("div", { class: "item-body" }, el("div", { class: "full" }, full),
      el("table", { class: "fields" }, rows.map(([name, value]) => el("tr", {}, el("td", {}, name), el("td", {}, String(value)))))),
  ];
  if (cluster.length) {
    view.push(el("h2", {}, `Cluster ${item.cluster}: ${cluster.length} member(s) `,
      el("a", { href: gridHash({ cluster: String(item.cluster) }), id: "cluster-grid" }, "(show in the grid)")));
    view.push(el("div", { class: "cluster" }, cluster.map((member) =>
      el("div", { class: `member${member.is_keeper ? " keeper" : ""}${member.item.id === item.id ? " current" : ""}`, "data-id": member.item.id },
        el("a", { class: "picture", href: `#/item/${member.item.id}?back=${encodeURIComponent(back || "#/")}` }, picture(member.item, 256)),
        el("div", { class: "why" }, el("div", {}, el("strong", {}, `#${member.item.id} ${member.item.label}`), member.is_keeper ? " · keeper" : ""),
          el("div", {}, member.why), badges(member.item))))));
  }
  view.push(el("h2", {}, "Decisions on this item"));
  view.push(history.length ? el("ul", { class: "history" }, history.map((entry) =>
    el("li", { class: entry.undone ? "undone" : "" }, `${new Date(entry.at * 1000).toLocaleString()}: ${entry.action}${entry.new_label ? " " + entry.new_label : ""}`
      + `${entry.items > 1 ? ` (with ${entry.items - 1} others)` : ""}${entry.note ? ` — ${entry.note}` : ""}${entry.undone ? " (undone)" : ""}`)))
    : el("p", {}, "None yet."));
  $("item-view").replaceChildren(...view);
}

// Keys.

// A button clicked with the mouse keeps the focus, and Enter or space would click it again: give the focus back to the
// page, so keys always mean what the help says.
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("button");
  if (button) button.blur();
});

document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
  if (typing) {
    if (event.key === "Escape") document.activeElement.blur();
    if (event.key === "Enter" && document.activeElement.id === "new-label") { event.preventDefault(); setTypedLabel($("new-label")); }
    return;
  }
  if (document.activeElement.tagName === "BUTTON" && (event.key === "Enter" || event.key === " ")) return;  // a key on a focused button clicks it
  if (event.key === " " || event.key === "Enter") event.preventDefault();
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const onItem = !$("item-view").hidden;
  const key = event.key;
  if (key === "?") { $("help").hidden = !$("help").hidden; return event.preventDefault(); }
  if (key === "Escape") {
    if (!$("help").hidden) { $("help").hidden = true; return; }
    if (onItem) { location.hash = parseHash().back || "#/"; return; }
    state.selected.clear(); state.allMatching = false; renderGrid(); return;
  }
  if (key === "u") return undo();
  if (key === "o") return decide({ action: "keep" });
  if (key === "x") return decide({ action: "exclude" });
  if (key === "s") return acceptSuggestion();
  if (key === "l") { event.preventDefault(); return askLabel(); }
  if (/^[1-9]$/.test(key)) {
    const labels = onItem ? state.item.labels : state.grid.labels;
    const label = labels[Number(key) - 1];
    if (label) decide({ action: "label", label });
    return;
  }
  if (onItem || !state.grid) return;
  const moves = { ArrowRight: 1, j: 1, ArrowLeft: -1, k: -1, ArrowDown: columns(), ArrowUp: -columns() };
  if (key in moves) { event.preventDefault(); return moveFocus(moves[key]); }
  if (key === " ") {
    event.preventDefault();
    const item = state.grid.items[state.focus];
    if (item) { state.allMatching = false; toggle(item); state.anchor = state.focus; renderGrid(); }
    return;
  }
  if (key === "a") { state.allMatching = true; return renderGrid(); }
  if (key === "Enter") { const item = state.grid.items[state.focus]; if (item) openItem(item.id); return; }
  if (key === "n") return page(1);
  if (key === "p") return page(-1);
});

$("sort").addEventListener("change", () => go({ ...state.query, sort: $("sort").value, page: undefined }));
$("select-all").addEventListener("click", () => { state.allMatching = true; renderGrid(); });
$("clear-selection").addEventListener("click", () => { state.selected.clear(); state.allMatching = false; renderGrid(); });
$("keep").addEventListener("click", () => decide({ action: "keep" }));
$("exclude").addEventListener("click", () => decide({ action: "exclude" }));
$("set-label").addEventListener("click", () => setTypedLabel($("new-label")));
$("accept-suggestion").addEventListener("click", acceptSuggestion);
$("undo").addEventListener("click", undo);
$("help-button").addEventListener("click", () => { $("help").hidden = !$("help").hidden; });
$("help-close").addEventListener("click", () => { $("help").hidden = true; });

route();
