// kerasdream atlas viewer: renders window.ATLAS (atlas.json) with no server
// and no network. Routes live in the URL hash, so every view has a link:
//   #/                 the layer list
//   #/<folder>         a layer's filter grid
//   #/<folder>/<k>     filter k: dream, dataset examples, metrics
"use strict";

(function () {
  const atlas = window.ATLAS;
  const view = document.getElementById("view");
  const layerNav = document.getElementById("layers");
  const layers = new Map(atlas.layers.map((layer) => [layer.folder, layer]));
  let current = { layer: null, index: -1 };

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
      }
    }
    return node;
  }

  function show(...children) {
    view.replaceChildren(...children.filter((child) => child !== null));
  }

  // Every picture is lazy: a 4,000-filter grid loads only what is on screen.
  function picture(src, alt, className) {
    return el("img", { src, alt, loading: "lazy", decoding: "async", class: className });
  }

  function filterLink(layer, filter) {
    return `#/${encodeURIComponent(layer.folder)}/${filter.filter}`;
  }

  function number(value, digits) {
    return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
  }

  function renderLayerNav() {
    layerNav.replaceChildren(...atlas.layers.map((layer) =>
      el("a", {
        href: `#/${encodeURIComponent(layer.folder)}`,
        class: current.layer === layer ? "current" : null,
      }, layer.name)));
  }

  function renderHome() {
    const rows = atlas.layers.map((layer) => el("tr", {},
      el("td", {}, el("a", { href: `#/${encodeURIComponent(layer.folder)}` }, layer.name)),
      el("td", {}, `${layer.filters.length} of ${layer.channels}`),
      el("td", {}, layer.filters.filter((f) => f.metrics.rank === 1).length),
      el("td", {}, layer.examples ? `${layer.examples.images}` : "–")));
    show(
      el("h1", {}, `Atlas of ${atlas.network.describe}`),
      el("p", {}, `${atlas.layers.length} layers. Click a layer, then a filter.`),
      el("table", {}, el("tr", {}, el("th", {}, "layer"), el("th", {}, "filters dreamed"),
        el("th", {}, "rank 1"), el("th", {}, "example photos")), ...rows));
  }

  function renderLayer(layer) {
    const tiles = layer.filters.map((filter) => el("a", { class: "tile", href: filterLink(layer, filter) },
      filter.dream ? picture(filter.dream, `filter ${filter.filter}`)
                   : el("span", { class: "missing" }, "no dream"),
      `${filter.filter}`));
    const examples = layer.examples;
    show(
      el("h1", {}, layer.name),
      el("p", {}, `${layer.filters.length} of ${layer.channels} filters dreamed` +
        (examples ? `; dataset examples from ${examples.images} images` +
          (examples.skipped ? ` (${examples.skipped} unreadable skipped)` : "") : "")),
      el("div", { class: "grid" }, ...tiles));
  }

  function metricsTable(filter) {
    const m = filter.metrics;
    const rows = [
      ["activation", number(m.final_activation, 3), "the filter's mean on the final dream"],
      ["rank", m.rank ?? "–", "1 = the dream excites this filter more than any other of the layer"],
      ["robust rank", m.robust_rank ?? "–", "the same over shifted, scaled and rotated views"],
      ["natural ratio", number(m.natural_ratio, 2), "activation over the filter's strongest response to real photos"],
      ["robust natural ratio", number(m.robust_natural_ratio, 2), "the same over views"],
      ["steps", m.steps ?? "–", ""],
      ["status", m.status ?? "–", ""],
    ];
    return el("table", { class: "metrics" }, ...rows.map(([name, value, what]) =>
      el("tr", {}, el("th", {}, name), el("td", { class: name === "status" && value !== "ok" ? "bad" : null }, value),
        el("td", {}, what))));
  }

  function renderFilter(layer, index) {
    const filter = layer.filters[index];
    const previous = layer.filters[index - 1];
    const next = layer.filters[index + 1];
    const steps = el("nav", { class: "steps" },
      previous ? el("a", { href: filterLink(layer, previous), id: "previous" }, `← ${previous.filter}`) : el("span", {}, ""),
      el("a", { href: `#/${encodeURIComponent(layer.folder)}` }, `all of ${layer.name}`),
      next ? el("a", { href: filterLink(layer, next), id: "next" }, `${next.filter} →`) : el("span", {}, ""));
    const examples = filter.examples.map((example, i) => el("figure", { class: "example" },
      el("div", { class: "frame" },
        picture(example.image, `example ${i + 1}: ${example.source}`, "photo"),
        picture(example.heat, "", "heat")),
      el("figcaption", {}, `${number(example.activation, 2)} · ${example.source}`)));
    const toggle = el("input", { type: "checkbox", id: "show-heat" });
    toggle.checked = !document.body.classList.contains("no-heat");
    toggle.addEventListener("change", () => document.body.classList.toggle("no-heat", !toggle.checked));
    show(
      steps,
      el("h1", {}, `${layer.name} · filter ${filter.filter}`),
      el("div", { class: "row" },
        filter.dream ? el("img", { src: filter.dream, alt: `dream of filter ${filter.filter}`, class: "dream", id: "dream" })
                     : el("p", {}, "No dream of this filter yet."),
        metricsTable(filter)),
      el("section", { id: "examples" }, el("h2", {}, "Dataset examples"),
        filter.examples.length
          ? el("p", {}, el("label", {}, toggle, " show where the filter fired (heat map)"))
          : el("p", {}, "None: build the atlas with --examples DIR to see the photos that excite this filter most."),
        el("div", { class: "row" }, ...examples)),
      steps.cloneNode(true));
  }

  function route() {
    const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
    const layer = layers.get(parts[0]) || null;
    const index = layer && parts.length > 1 ? layer.filters.findIndex((f) => String(f.filter) === parts[1]) : -1;
    current = { layer, index };
    renderLayerNav();
    if (!layer) renderHome();
    else if (index < 0) renderLayer(layer);
    else renderFilter(layer, index);
    document.title = `kerasdream atlas${layer ? " · " + layer.name : ""}${index >= 0 ? " · " + parts[1] : ""}`;
  }

  document.getElementById("network").textContent = atlas.network.describe;
  document.getElementById("search").addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = document.getElementById("search-number").value.trim();
    const message = document.getElementById("search-message");
    const layer = current.layer || atlas.layers[0];
    const filter = layer && layer.filters.find((f) => String(f.filter) === wanted);
    message.textContent = filter ? "" : `no filter ${wanted} in ${layer ? layer.name : "this atlas"}`;
    if (filter) location.hash = filterLink(layer, filter);
  });
  document.addEventListener("keydown", (event) => {
    if (event.target.tagName === "INPUT" || current.index < 0) return;
    const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
    const filter = step && current.layer.filters[current.index + step];
    if (filter) location.hash = filterLink(current.layer, filter);
  });
  window.addEventListener("hashchange", route);
  route();
})();
