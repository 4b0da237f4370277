// Live updates for the newsmon dashboard, over server-sent events.
// Everything from the server is data and goes in with textContent or as an
// attribute value, never as markup: article text is hostile input.

const page = document.body.dataset.page;
const live = document.getElementById("live");

function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

function shortTime(iso) {
  return iso ? iso.slice(0, 16).replace("T", " ") + " UTC" : "";
}

function link(href, text, bdi = false) {
  const a = el("a", { href });
  if (bdi) a.append(el("bdi", {}, text));
  else a.textContent = text;
  return a;
}

// One row of the alert list; mirrors templates/macros.html alert_row.
function alertRow(r) {
  const tr = el("tr", { "data-id": r.id, class: `sev-${r.severity} act-${r.action} fresh` });
  const time = el("td", { class: "time" });
  time.append(el("time", { datetime: r.updated_at }, shortTime(r.updated_at)));
  const sev = el("td");
  sev.append(el("span", { class: `badge sev-${r.severity}` }, r.severity));
  const rule = el("td", { class: "rule" });
  rule.append(link("/?rule=" + encodeURIComponent(r.rule_id), r.rule_id));
  const title = el("td", { class: "title" });
  title.append(link("/alerts/" + encodeURIComponent(r.id), r.title, true));
  if (r.ack) {
    title.append(" ", el("span", { class: "ack", title: "acknowledged " + shortTime(r.ack.at) }, "ack · " + r.ack.by));
  }
  const story = el("td", { class: "story" });
  if (r.story_id) story.append(link("/stories/" + encodeURIComponent(r.story_id), r.story_title || r.story_id, true));
  else story.textContent = "–";
  const sources = el("td", { class: "sources" }, r.sources.join(", ") + (r.more_sources ? ` +${r.more_sources}` : ""));
  const reports = el("td", { class: "num" }, String(r.corroboration));
  const state = el("td");
  state.append(el("span", { class: `action act-${r.action}` }, r.action), " ", el("span", { class: "rev" }, "r" + r.revision));
  tr.append(time, sev, rule, title, story, sources, reports, state);
  return tr;
}

function updateCount() {
  const body = document.getElementById("alerts");
  const shown = document.getElementById("shown");
  if (shown) shown.textContent = String(body.rows.length);
  const empty = document.getElementById("empty");
  if (empty) empty.hidden = body.rows.length > 0;
}

function onAlert(data) {
  const body = document.getElementById("alerts");
  if (!body) return;
  const old = [...body.rows].find((row) => row.dataset.id === data.id);
  if (!data.match) {
    if (old) old.remove();
  } else {
    if (old) old.remove();
    body.prepend(alertRow(data));
  }
  updateCount();
}

// The story page is server-rendered: a new record of its story shows a notice
// saying what changed (a replayed, identical record shows nothing).
// On the alerts page, rows of that story take its title.
function onStory(data) {
  // alert rows name their story by title once its record is known (it may come after the alert)
  const href = "/stories/" + encodeURIComponent(data.id);
  if (data.title) {
    for (const a of document.querySelectorAll("#alerts td.story a")) {
      if (a.getAttribute("href") === href) a.replaceChildren(el("bdi", {}, data.title));
    }
  }
  const heading = document.querySelector("[data-story]");
  const notice = document.getElementById("story-changed");
  if (!heading || !notice || data.id !== heading.dataset.story) return;
  const what = document.getElementById("story-changed-what");
  const shown = Number(heading.dataset.reports || -1);
  const fresh = data.report_count !== undefined ? data.report_count - shown : null;
  if (heading.dataset.reports && fresh === 0 && data.status === heading.dataset.status) return;
  if (data.status === "closed" && heading.dataset.status !== "closed") {
    what.textContent = "This story was closed (no report for a while).";
  } else if (heading.dataset.reports && fresh > 0) {
    what.textContent = fresh === 1 ? "1 new report." : fresh + " new reports.";
  } else {
    what.textContent = "This story has changed.";
  }
  notice.hidden = false;
}

function showStatus(status) {
  if (!live) return;
  const loading = status.loading || [];
  live.textContent = loading.length ? "loading " + loading.join(", ") + "…" : "live";
  live.classList.toggle("off", loading.length > 0);
}

function connect() {
  const source = new EventSource("/events" + (page === "alerts" ? location.search : ""));
  let broken = false;
  source.addEventListener("hello", (event) => {
    if (broken && page === "alerts") location.reload(); // events were missed while away
    showStatus(JSON.parse(event.data));
  });
  source.addEventListener("status", (event) => showStatus(JSON.parse(event.data)));
  source.addEventListener("alert", (event) => onAlert(JSON.parse(event.data)));
  source.addEventListener("story", (event) => onStory(JSON.parse(event.data)));
  source.onerror = () => {
    broken = true;
    if (live) { live.textContent = "reconnecting…"; live.classList.add("off"); }
  };
}

if (window.EventSource) connect();
