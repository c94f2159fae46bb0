// kerasdream activation atlas viewer: renders window.ACTIVATION_ATLAS with no
// server and no network. Routes live in the URL hash:
//   #/<folder>                 a layer's atlas (pan: drag; zoom: wheel or +/-)
//   #/<folder>/<row>/<column>  the same with one cell's detail open
"use strict";

(function () {
  const data = window.ACTIVATION_ATLAS || { atlases: [] };
  const atlases = new Map(data.atlases.map((atlas) => [atlas.folder, atlas]));
  const viewport = document.getElementById("viewport");
  const plane = document.getElementById("plane");
  const detail = document.getElementById("detail");
  let shown = null;
  let view = { x: 0, y: 0, scale: 1 };

  function cellLink(atlas, cell) {
    return `#/${encodeURIComponent(atlas.folder)}/${cell.row}/${cell.column}`;
  }

  function apply() {
    plane.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
  }

  function fit(atlas) {
    const width = atlas.grid[1] * atlas.tile, height = atlas.grid[0] * atlas.tile;
    const scale = Math.min(viewport.clientWidth / width, viewport.clientHeight / height) || 1;
    view = { scale, x: (viewport.clientWidth - width * scale) / 2, y: (viewport.clientHeight - height * scale) / 2 };
    apply();
  }

  function zoom(factor, cx, cy) {
    const x = cx === undefined ? viewport.clientWidth / 2 : cx;
    const y = cy === undefined ? viewport.clientHeight / 2 : cy;
    const scale = Math.min(Math.max(view.scale * factor, 0.05), 40);
    view.x = x - (x - view.x) * (scale / view.scale);
    view.y = y - (y - view.y) * (scale / view.scale);
    view.scale = scale;
    apply();
  }

  function renderNav(current) {
    document.getElementById("atlases").replaceChildren(...data.atlases.map((atlas) =>
      el("a", { href: `#/${encodeURIComponent(atlas.folder)}`, class: atlas === current ? "current" : null }, atlas.layer)));
  }

  function renderPlane(atlas) {
    const t = atlas.tile;
    plane.style.width = `${atlas.grid[1] * t}px`;
    plane.style.height = `${atlas.grid[0] * t}px`;
    const nodes = [];
    for (const cell of atlas.cells) {
      nodes.push(el("img", {
        class: "cell", src: cell.dream, alt: `cell ${cell.row},${cell.column}`, draggable: "false",
        "data-row": cell.row, "data-column": cell.column, title: `${cell.count} points`,
        style: `left:${cell.column * t}px;top:${cell.row * t}px;width:${t}px;height:${t}px`,
      }));
      if (cell.classes && cell.classes.length) {
        nodes.push(el("span", { class: "label", style: `left:${cell.column * t}px;top:${(cell.row + 1) * t - 12}px;max-width:${t}px` },
          cell.classes[0].name));
      }
    }
    plane.replaceChildren(...nodes);
  }

  function renderDetail(atlas, cell) {
    for (const node of plane.querySelectorAll("img.cell.selected")) node.classList.remove("selected");
    if (!cell) {
      detail.replaceChildren(el("h2", {}, `${atlas.layer}`),
        el("p", {}, `${atlas.cells.length} cells of a ${atlas.grid[0]}×${atlas.grid[1]} grid (at least ${atlas.min_count} points each), ` +
          `from ${atlas.points} activation vectors (${atlas.per_image} per photo) of ${atlas.images} photos, laid out with ${atlas.method}.`),
        el("p", {}, "Click a cell."),
        el("p", {}, el("a", { href: atlas.atlas, id: "whole" }, "the whole atlas as one picture")));
      return;
    }
    const tile = plane.querySelector(`img.cell[data-row="${cell.row}"][data-column="${cell.column}"]`);
    if (tile) tile.classList.add("selected");
    const filters = el("table", { id: "filters" }, el("tr", {}, el("th", {}, "filter"), el("th", {}, "mean activation")),
      ...cell.top_filters.map((f) => el("tr", {},
        el("td", {}, data.site ? el("a", { href: `index.html#/${encodeURIComponent(atlas.folder)}/${f.filter}` }, f.filter) : f.filter),
        el("td", {}, Number(f.value).toFixed(3)))));
    const photos = cell.photos.map((photo) => el("figure", { class: "photo" },
      el("img", { src: photo.photo, alt: photo.source, loading: "lazy" }),
      el("div", { class: "box", style: `top:${photo.box[0] * 100}%;left:${photo.box[1] * 100}%;height:${photo.box[2] * 100}%;width:${photo.box[3] * 100}%` }),
      el("figcaption", {}, photo.source)));
    detail.replaceChildren(...[
      el("h2", {}, `${atlas.layer} · cell ${cell.row}, ${cell.column}`),
      el("img", { class: "dream", id: "cell-dream", src: cell.dream, alt: `dream of cell ${cell.row},${cell.column}` }),
      el("p", {}, `${cell.count} activation vectors fell into this cell.`),
      cell.classes ? el("p", { id: "classes" }, "Supports most: " + cell.classes.map((c) => `${c.name} (${Number(c.attribution).toFixed(2)})`).join(", ")) : null,
      el("h3", {}, "Filters its direction loads on most"), filters,
      el("h3", {}, "Photos (the box: where the vector was taken)"),
      el("div", { class: "photos", id: "photos" }, ...photos)].filter(Boolean));
  }

  function route() {
    const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
    const atlas = atlases.get(parts[0]) || data.atlases[0];
    renderNav(atlas);
    if (!atlas) {
      detail.replaceChildren(el("p", {}, "No activation atlas in this folder yet: run kerasdream activation-atlas."));
      return;
    }
    if (shown !== atlas) {
      renderPlane(atlas);
      fit(atlas);
      shown = atlas;
    }
    const cell = parts.length >= 3 ? atlas.cells.find((c) => String(c.row) === parts[1] && String(c.column) === parts[2]) : null;
    renderDetail(atlas, cell || null);
    document.title = `kerasdream activation atlas · ${atlas.layer}` + (cell ? ` · ${cell.row},${cell.column}` : "");
  }

  // Pan by dragging; a press released where it began is a click on a cell.
  let drag = null;
  viewport.addEventListener("pointerdown", (event) => {
    if (event.target.closest("#zoom")) return;
    drag = { x: event.clientX, y: event.clientY, vx: view.x, vy: view.y, moved: false, target: event.target };
    viewport.classList.add("dragging");
  });
  window.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    view.x = drag.vx + dx;
    view.y = drag.vy + dy;
    apply();
  });
  window.addEventListener("pointerup", () => {
    if (!drag) return;
    const { moved, target } = drag;
    drag = null;
    viewport.classList.remove("dragging");
    if (!moved && target.classList && target.classList.contains("cell") && shown) {
      location.hash = cellLink(shown, { row: target.dataset.row, column: target.dataset.column });
    }
  });
  viewport.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = viewport.getBoundingClientRect();
    zoom(event.deltaY < 0 ? 1.2 : 1 / 1.2, event.clientX - box.left, event.clientY - box.top);
  }, { passive: false });
  document.getElementById("zoom-in").addEventListener("click", () => zoom(1.5));
  document.getElementById("zoom-out").addEventListener("click", () => zoom(1 / 1.5));
  document.getElementById("zoom-fit").addEventListener("click", () => shown && fit(shown));
  if (!data.site) document.getElementById("home").removeAttribute("href");
  window.addEventListener("hashchange", route);
  route();
})();
