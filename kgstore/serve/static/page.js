// The session page of `kgctl serve`: search titles, build a session, ask for
// recommendations, draw each one's KG path (Cytoscape, vendored by npm), list the users
// nearest to the session's persona. Every call sends the bearer token, which the page
// takes from its address (#token=...) or asks for once, and keeps for the browser tab.
"use strict";

const $ = (selector) => document.querySelector(selector);
const session = [];
let token = null;

function readToken() {
  const fromAddress = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromAddress) {
    sessionStorage.setItem("kgstore-token", fromAddress);
    history.replaceState(null, "", location.pathname); // keep it out of the address bar
  }
  token = sessionStorage.getItem("kgstore-token");
  $("#auth").hidden = Boolean(token);
}

async function api(method, path, body) {
  const reply = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await reply.json();
  if (!reply.ok) {
    if (reply.status === 401 || reply.status === 403) $("#auth").hidden = false;
    throw new Error(`${reply.status}: ${answer.error}`);
  }
  return answer;
}

function say(text, isError = false) {
  const status = $("#status");
  status.textContent = text;
  status.className = isError ? "error" : "quiet";
}

let pending = null;
function searchSoon() {
  clearTimeout(pending);
  pending = setTimeout(search, 200);
}

async function search() {
  const words = $("#search").value.trim();
  const hits = $("#hits");
  if (!words) { hits.replaceChildren(); return; }
  const query = new URLSearchParams({ q: words, domain: $("#domain").value, k: "12" });
  try {
    const answer = await api("GET", `/items?${query}`);
    hits.replaceChildren(...answer.items.map((hit) => {
      const row = document.createElement("li");
      row.textContent = hit.title;
      row.dataset.item = hit.item;
      row.title = hit.item;
      row.addEventListener("click", () => add(hit));
      return row;
    }));
    if (!answer.items.length) say(`no ${$("#domain").value} title holds "${words}"`);
  } catch (error) { say(error.message, true); }
}

function add(hit) {
  if (session.some((item) => item.item === hit.item)) return;
  session.push(hit);
  showSession();
}

function showSession() {
  $("#session").replaceChildren(...session.map((hit, position) => {
    const row = document.createElement("li");
    row.textContent = hit.title;
    row.dataset.item = hit.item;
    const remove = document.createElement("button");
    remove.textContent = "remove";
    remove.addEventListener("click", () => { session.splice(position, 1); showSession(); });
    row.append(remove);
    return row;
  }));
  $("#recommend").disabled = session.length === 0;
}

async function recommend() {
  say("ranking…");
  const items = session.map((hit) => hit.item);
  try {
    const answer = await api("POST", "/recommend", {
      items, k: 10, domain: $("#domain").value, neighbours: 5,
    });
    const persona = answer.persona_run ? `, persona run ${answer.persona_run}` : "";
    $("#model").textContent = `model run ${answer.run} (${answer.row}${persona})` +
      (answer.notes.length ? ` — ${answer.notes.join("; ")}` : "");
    const body = $("#recs tbody");
    body.replaceChildren(...answer.items.map((rec, rank) => recommendationRow(rec, rank)));
    showNeighbours(answer);
    say(`${answer.items.length} recommendations; drawing their KG paths…`);
    await Promise.all(answer.items.map((rec, rank) => explain(items, rec, body.rows[rank])));
    say(`${answer.items.length} recommendations`);
  } catch (error) { say(error.message, true); }
}

function recommendationRow(rec, rank) {
  const row = document.createElement("tr");
  row.dataset.item = rec.item;
  const cells = [String(rank + 1), rec.title || rec.item, rec.score.toFixed(3)];
  for (const [index, text] of cells.entries()) {
    const cell = document.createElement("td");
    cell.textContent = text;
    if (index === 2) cell.className = "score";
    row.append(cell);
  }
  const why = document.createElement("td");
  why.className = "why";
  row.append(why);
  return row;
}

async function explain(items, rec, row) {
  const why = row.querySelector(".why");
  const answer = await api("POST", "/explain", { items, target: rec.item, paths: 1 });
  const [best] = answer.paths;
  const text = document.createElement("div");
  text.className = "path-text";
  text.textContent = best ? best.path : "no KG path within 4 hops";
  if (best && window.cytoscape) {
    const drawing = document.createElement("div");
    drawing.className = "path";
    why.append(drawing);
    draw(drawing, best);
  } else if (best) {
    text.textContent += " (graph library not installed: run `make install`)";
  }
  why.append(text);
}

function draw(container, path) {
  const last = path.nodes.length - 1;
  cytoscape({
    container,
    userZoomingEnabled: false,
    elements: [
      ...path.nodes.map((node, position) => ({
        data: { id: node.key, label: node.name, kind: node.kind },
        position: { x: position * 160, y: position % 2 ? 0 : 40 },
        classes: position === 0 ? "session" : position === last ? "target" : "",
      })),
      ...path.rels.map((rel, index) => ({
        data: { id: `r${index}`, source: rel.source, target: rel.target, label: rel.type },
      })),
    ],
    layout: { name: "preset", fit: true, padding: 18 },
    style: [
      { selector: "node", style: { label: "data(label)", "font-size": 10, width: 14, height: 14,
        "text-wrap": "ellipsis", "text-max-width": 120, "background-color": "#8a8a8a" } },
      { selector: "node[kind = 'Item']", style: { shape: "round-rectangle", "background-color": "#4c78a8" } },
      { selector: "node.session", style: { "background-color": "#f58518" } },
      { selector: "node.target", style: { "background-color": "#54a24b" } },
      { selector: "edge", style: { label: "data(label)", "font-size": 8, width: 1.5,
        "curve-style": "bezier", "target-arrow-shape": "triangle", "text-rotation": "autorotate" } },
    ],
  });
}

function showNeighbours(answer) {
  const list = $("#neighbours");
  if (answer.neighbours_note || !answer.neighbours) {
    list.replaceChildren(Object.assign(document.createElement("li"),
      { textContent: answer.neighbours_note || "none" }));
    return;
  }
  list.replaceChildren(...answer.neighbours.map((near) => Object.assign(
    document.createElement("li"), { textContent: `${near.user} (cosine ${near.score.toFixed(3)})` })));
}

window.addEventListener("DOMContentLoaded", () => {
  readToken();
  $("#save-token").addEventListener("click", () => {
    sessionStorage.setItem("kgstore-token", $("#token").value.trim());
    readToken();
  });
  $("#search").addEventListener("input", searchSoon);
  $("#domain").addEventListener("change", () => { session.length = 0; showSession(); search(); });
  $("#recommend").addEventListener("click", recommend);
  $("#clear").addEventListener("click", () => { session.length = 0; showSession(); });
});
