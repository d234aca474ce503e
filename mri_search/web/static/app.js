// mri-search page: plain JavaScript, no libraries. The URL holds the query state (q, target, group_by, offset,
// top_k, filters, similar, series), so a page can be shared; every view is rebuilt from it. Text from the index
// goes into the page as textContent only, never as HTML.
"use strict";
(function () {
  const FACETS = ["sequence", "plane", "body_part", "manufacturer", "contrast", "report_region", "tumour_site"];
  const LABELS = {sequence: "sequence", plane: "plane", body_part: "body part", manufacturer: "maker",
                  contrast: "contrast", report_region: "region (from the report)",
                  tumour_site: "tumour site (from the report)"};
  const PRESETS = JSON.parse(document.body.dataset.presets);
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  let view = null;  // the open series: {key, plane, index, slices, preset}

  const state = () => new URLSearchParams(location.search);
  function go(params, replace) {
    const url = location.pathname + (params.toString() ? "?" + params : "");
    (replace ? history.replaceState : history.pushState).call(history, null, "", url);
    render();
  }
  function apiParams(p) {  // the query and filters, without the page-only keys
    const a = new URLSearchParams();
    for (const [k, v] of p) if (!["series", "similar"].includes(k)) a.append(k, v);
    return a;
  }
  async function getJSON(url) {
    const r = await fetch(url);
    const body = await r.json().catch(() => ({detail: r.statusText}));
    if (!r.ok) throw new Error(body.detail || r.statusText);
    return body;
  }
  function status(text, error) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  }

  // --- results ----------------------------------------------------------------------------------------------
  function card(hit) {
    const c = el("div", "card");
    c.dataset.series = hit.series_key;
    const img = el("img");
    img.loading = "lazy";
    img.alt = "thumbnail of series " + hit.rank;
    img.src = hit.thumbnail_url;
    c.append(img);
    const b = el("div", "body");
    b.append(el("span", "score", hit.score.toFixed(3)));
    b.append(el("span", "badge", hit.sequence || "?"), el("span", "badge plane", hit.plane || "?"));
    if (hit.body_part) b.append(el("span", "badge part", hit.body_part));
    b.append(el("div", "desc", "#" + hit.rank + " " + hit.series_description));
    b.append(el("div", "impression", hit.impression));
    b.append(el("div", "path", hit.path));
    c.append(b);
    c.addEventListener("click", () => { const p = state(); p.set("series", hit.series_key); go(p); });
    return c;
  }
  async function results(p) {
    const grid = $("grid");
    const q = p.get("q"), similar = p.get("similar");
    if (!q && !similar) { grid.replaceChildren(); status("type what to find"); $("pager").hidden = true; return; }
    const api = similar ? "/api/similar/" + encodeURIComponent(similar) + "?" + apiParams(p)
                        : "/api/search?" + apiParams(p);
    status("searching...");
    try {
      const r = await getJSON(api);
      grid.replaceChildren(...r.hits.map(card));
      const what = similar ? "more like series " + similar.slice(0, 8) : "\u201c" + q + "\u201d";
      status(r.hits.length + " results for " + what + " in " + r.timings_ms.total_ms.toFixed(0) + " ms");
      const off = r.offset, k = r.top_k;
      $("pager").hidden = false;
      $("page").textContent = "results " + (r.hits.length ? off + 1 : 0) + "\u2013" + (off + r.hits.length);
      $("prev").disabled = off === 0;
      $("next").disabled = r.hits.length < k;
      $("csv").hidden = !!similar;
      $("csv").href = "/api/search.csv?" + apiParams(p);
    } catch (e) { grid.replaceChildren(); status(e.message, true); }
  }
  async function facets(p) {
    const a = new URLSearchParams();
    for (const f of FACETS) for (const v of p.getAll(f)) a.append(f, v);
    try {
      const r = await getJSON("/api/facets?" + a);
      const box = $("facets");
      box.replaceChildren(el("div", "total", r.total + " series match the filters"));
      for (const f of FACETS) {
        const vals = r.facets[f] || [];
        if (!vals.length) continue;
        box.append(el("h3", "", LABELS[f]));
        for (const {value, count} of vals) {
          const lab = el("label");
          const cb = el("input");
          cb.type = "checkbox";
          cb.name = f;
          cb.value = value;
          cb.checked = p.getAll(f).includes(value);
          cb.addEventListener("change", () => {
            const np = state();
            const kept = np.getAll(f).filter((v) => v !== value);
            np.delete(f);
            for (const v of kept) np.append(f, v);
            if (cb.checked) np.append(f, value);
            np.delete("offset");
            go(np);
          });
          lab.append(cb, " " + (f === "contrast" ? (value === "true" ? "post-contrast" : "pre-contrast") : value),
                     el("span", "n", String(count)));
          box.append(lab);
        }
      }
    } catch (e) { $("facets").replaceChildren(el("div", "problem", e.message)); }
  }

  // --- the series view ----------------------------------------------------------------------------------------
  function sliceUrl() {
    const [w, l] = PRESETS[view.preset];
    return "/api/series/" + encodeURIComponent(view.key) + "/slice.png?plane=" + view.plane + "&index=" +
      view.index + "&window=" + w + "&level=" + l;
  }
  function drawSlice() {
    if (!view || !view.slices) return;
    $("slice").src = sliceUrl();
    $("slice").dataset.index = view.index;
    $("v-index").textContent = view.plane + " " + (view.index + 1) + " / " + view.slices[view.plane];
    for (const b of $("planes").children) b.classList.toggle("on", b.dataset.plane === view.plane);
    for (const b of $("presets").children) b.classList.toggle("on", b.dataset.preset === view.preset);
  }
  function step(d) {
    if (!view || !view.slices) return;
    const n = view.slices[view.plane];
    view.index = Math.max(0, Math.min(n - 1, view.index + d));
    drawSlice();
  }
  async function openSeries(key) {
    $("viewer").hidden = false;
    $("v-title").textContent = "loading...";
    try {
      const r = await getJSON("/api/series/" + encodeURIComponent(key));
      const h = r.hit;
      view = {key, plane: "axial", slices: r.slices, preset: "default", index: 0};
      if (r.slices) view.index = Math.floor(r.slices.axial / 2);
      $("v-title").textContent = [h.sequence, h.plane, h.body_part, h.series_description].filter(Boolean).join(" \u00b7 ");
      $("v-badges").replaceChildren(el("span", "badge", h.sequence || "?"), el("span", "badge plane", h.plane || "?"),
                                    el("span", "badge part", h.manufacturer || "?"));
      $("v-path").textContent = h.path;
      $("v-viewer").hidden = !h.viewer_url;
      if (h.viewer_url) $("v-viewer").href = h.viewer_url;
      $("v-problem").textContent = r.problem ? "cannot show the images: " + r.problem : "";
      const rep = $("report");
      rep.replaceChildren();
      for (const [sec, text] of Object.entries(r.report)) rep.append(el("h4", "", sec), el("p", "", text));
      if (!Object.keys(r.report).length) rep.append(el("p", "", "no report"));
      $("planes").replaceChildren(...["axial", "coronal", "sagittal"].map((pl) => {
        const b = el("button", "", pl);
        b.type = "button";
        b.dataset.plane = pl;
        b.addEventListener("click", () => {
          view.plane = pl; view.index = Math.floor(view.slices[pl] / 2); drawSlice(); $("slice").focus();
        });
        return b;
      }));
      $("presets").replaceChildren(...Object.keys(PRESETS).map((name) => {
        const b = el("button", "", name);
        b.type = "button";
        b.dataset.preset = name;
        b.addEventListener("click", () => { view.preset = name; drawSlice(); $("slice").focus(); });
        return b;
      }));
      drawSlice();
      $("slice").focus();
    } catch (e) { $("v-title").textContent = e.message; view = null; }
  }
  function closeSeries() { const p = state(); p.delete("series"); go(p); }

  $("slice").addEventListener("wheel", (e) => { e.preventDefault(); step(e.deltaY > 0 ? 1 : -1); }, {passive: false});
  document.addEventListener("keydown", (e) => {
    if ($("viewer").hidden) return;
    if (e.key === "Escape") closeSeries();
    else if (e.key === "ArrowUp" || e.key === "ArrowRight") { e.preventDefault(); step(1); }
    else if (e.key === "ArrowDown" || e.key === "ArrowLeft") { e.preventDefault(); step(-1); }
  });
  $("close").addEventListener("click", closeSeries);
  $("viewer").addEventListener("click", (e) => { if (e.target === $("viewer")) closeSeries(); });
  $("more").addEventListener("click", () => {
    const p = state();
    const key = view && view.key;
    p.delete("series"); p.delete("offset"); p.delete("q");
    if (key) p.set("similar", key);
    go(p);
  });

  // --- the form, the pager, an image upload --------------------------------------------------------------------
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const p = state();
    p.set("q", $("q").value.trim());
    p.set("target", $("target").value);
    p.set("group_by", $("group_by").value);
    for (const k of ["offset", "similar", "series"]) p.delete(k);
    go(p);
  });
  function page(d) {
    const p = state();
    const k = parseInt(p.get("top_k") || "24", 10);
    p.set("offset", String(Math.max(0, parseInt(p.get("offset") || "0", 10) + d * k)));
    go(p);
  }
  $("prev").addEventListener("click", () => page(-1));
  $("next").addEventListener("click", () => page(1));
  $("upload").addEventListener("change", async () => {
    const f = $("upload").files[0];
    if (!f) return;
    status("searching with " + f.name + "...");
    const p = apiParams(state());
    p.delete("q"); p.delete("offset");
    p.set("name", f.name);
    try {
      const r = await fetch("/api/search/image?" + p, {method: "POST", body: f,
                                                      headers: {"Content-Type": "application/octet-stream"}});
      const body = await r.json().catch(() => ({detail: r.statusText}));
      if (!r.ok) throw new Error(f.name + ": " + (body.detail || r.statusText));
      $("grid").replaceChildren(...body.hits.map(card));
      status(body.hits.length + " results like " + f.name + " in " + body.timings_ms.total_ms.toFixed(0) + " ms" +
             (body.notes.length ? " (left out: " + body.notes.join("; ") + ")" : ""));
      $("pager").hidden = true;
    } catch (e) { status(e.message, true); }
    $("upload").value = "";
  });

  let shown = null;  // the result query last drawn, so that opening a series does not search again
  function render() {
    const p = state();
    $("q").value = p.get("q") || "";
    $("target").value = p.get("target") || "images";
    $("group_by").value = p.get("group_by") || "none";
    const key = apiParams(p).toString() + "|" + (p.get("similar") || "");
    if (key !== shown) { shown = key; results(p); facets(p); }
    const s = p.get("series");
    if (s && (!view || view.key !== s || $("viewer").hidden)) openSeries(s);
    if (!s) { $("viewer").hidden = true; view = null; }
  }
  window.addEventListener("popstate", render);
  render();
})();
