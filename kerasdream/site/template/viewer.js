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

  function show(...children) {
    view.replaceChildren(...children.filter((child) => child !== null));
  }

  // Every picture is lazy: a 4,000-filter grid loads only what is on screen.
  function picture(src, alt, className) {
    return el("img", { src, alt, loading: "lazy", decoding: "async", class: className });
  }

  // A class dream's tile and page show its class name beside its number.
  function label(filter) {
    return filter.name ? `${filter.filter} ${filter.name}` : `${filter.filter}`;
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

  // The home page opens on pictures: a strip of each layer's first dreams.
  const STRIP = 12;

  function renderHome() {
    const sections = atlas.layers.map((layer) => el("section", { class: "layer-strip" },
      el("h2", {}, el("a", { href: `#/${encodeURIComponent(layer.folder)}` }, layer.name),
        el("small", {}, ` ${layer.filters.length} of ${layer.channels} filters dreamed, ` +
          `${layer.filters.filter((f) => f.metrics.rank === 1).length} rank 1` +
          (layer.examples ? `, examples from ${layer.examples.images} photos` : ""))),
      el("div", { class: "strip" }, ...layer.filters.slice(0, STRIP).map((filter) =>
        el("a", { class: "tile", href: filterLink(layer, filter) },
          filter.dream ? picture(filter.dream, `${layer.name} filter ${filter.filter}`)
                       : el("span", { class: "missing" }, "no dream"),
          label(filter))),
        layer.filters.length > STRIP
          ? el("a", { class: "more", href: `#/${encodeURIComponent(layer.folder)}` }, `all ${layer.filters.length} →`) : null)));
    show(
      el("h1", {}, `Atlas of ${atlas.network.describe}`),
      el("p", {}, `${atlas.layers.length} layers. Click a dream to open its filter, or a layer for all of them.`),
      atlas.activation_atlas ? el("p", {}, el("a", { href: atlas.activation_atlas, id: "activation-atlas" },
        "Activation atlas: one dream per region of what a layer sees in your photos")) : null,
      ...sections);
  }

  function renderLayer(layer) {
    const tiles = layer.filters.map((filter) => el("a", { class: "tile", href: filterLink(layer, filter) },
      filter.dream ? picture(filter.dream, `filter ${filter.filter}`)
                   : el("span", { class: "missing" }, "no dream"),
      label(filter)));
    const examples = layer.examples;
    show(
      el("h1", {}, layer.name),
      el("p", {}, `${layer.filters.length} of ${layer.channels} filters dreamed` +
        (examples ? `; dataset examples from ${examples.images} images` +
          (examples.skipped ? ` (${examples.skipped} unreadable skipped)` : "") : "")),
      el("div", { class: "grid" }, ...tiles));
  }

  // The photos a layer's dreams were judged against: skimage's, or the user's own.
  function photos(layer) {
    const reference = layer.reference;
    if (!reference || reference.photos === "skimage.data") return "real photos (skimage.data)";
    return `your ${reference.count} photos of ${reference.photos}`;
  }

  function metricsTable(filter, layer) {
    const m = filter.metrics;
    const rows = [
      ["activation", number(m.final_activation, 3), "the filter's mean on the final dream"],
      ["rank", m.rank ?? "–", "1 = the dream excites this filter more than any other of the layer"],
      ["robust rank", m.robust_rank ?? "–", "the same over shifted, scaled and rotated views"],
      ["natural ratio", number(m.natural_ratio, 2), `activation over the filter's strongest response to ${photos(layer)}`],
      ["robust natural ratio", number(m.robust_natural_ratio, 2), "the same over views"],
      ["path", pathValue(m), pathVerdict(m)],
      ["steps", m.steps ?? "–", ""],
      ["status", m.status ?? "–", ""],
    ];
    const bad = (name, value) => (name === "status" && value !== "ok") || (name === "path" && m.off_path === true);
    return el("table", { class: "metrics" }, ...rows.map(([name, value, what]) =>
      el("tr", { id: name === "path" ? "path-check" : null }, el("th", {}, name),
        el("td", { class: bad(name, value) ? "bad" : null }, value),
        el("td", {}, what))));
  }

  // The path check (kerasdream.evaluation.path): how alike, below the filter,
  // the dream's activations rank to the nearest real photo's, against the
  // floor real photos reach with one another.
  function pathValue(m) {
    if (m.off_path === null || m.off_path === undefined) return "–";
    return `${number(m.path_similarity, 2)} (photos: ${number(m.path_floor, 2)})`;
  }

  function pathVerdict(m) {
    if (m.off_path === null || m.off_path === undefined) return "not checked: no layer below this one";
    if (m.off_path) {
      return `off the natural path: at ${m.path_layer} the dream's activations are less like any real ` +
        "photo's than photos' are like each other; it may reach this filter by a route real images " +
        "do not take, so do not trust what it shows";
    }
    return `on the natural path: at every layer checked (lowest at ${m.path_layer}) the dream's ` +
      "activations are like a real photo's";
  }

  // Circuits: the filters that feed this one most, and those it feeds most,
  // by weight (kerasdream.circuits); each a link where that filter is in the atlas.
  function circuitList(title, id, links) {
    if (!links || !links.length) return null;
    const items = links.map((link) => {
      const target = layers.get(link.folder);
      const filter = target && target.filters.find((f) => f.filter === link.filter);
      const sign = link.weight >= 0 ? "+" : "−";
      const body = [filter && filter.dream ? picture(filter.dream, `${link.layer} filter ${link.filter}`)
                                           : el("span", { class: "missing" }, "no dream"),
        el("span", { class: link.weight >= 0 ? "weight plus" : "weight minus" }, `${sign}${Math.abs(link.weight).toFixed(3)}`),
        el("span", {}, `${link.layer} ${link.filter}`)];
      return filter ? el("a", { class: "tile circuit", href: filterLink(target, filter) }, ...body)
                    : el("span", { class: "tile circuit" }, ...body);
    });
    return el("section", { id }, el("h3", {}, title), el("div", { class: "strip" }, ...items));
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
      el("h1", {}, filter.name ? `${layer.name} · class ${label(filter)}` : `${layer.name} · filter ${filter.filter}`),
      el("div", { class: "row" },
        filter.dream ? el("img", { src: filter.dream, alt: `dream of filter ${filter.filter}`, class: "dream", id: "dream" })
                     : el("p", {}, "No dream of this filter yet."),
        metricsTable(filter, layer)),
      filter.circuits && (filter.circuits.inputs.length || filter.circuits.outputs.length)
        ? el("section", { class: "circuits" }, el("h2", {}, "Circuits"),
            circuitList("Strongest inputs (weight from the layer below)", "inputs", filter.circuits.inputs),
            circuitList("Strongest outputs (weight into the layer above)", "outputs", filter.circuits.outputs))
        : null,
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
