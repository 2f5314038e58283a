// Drill-down: a click on a bar or point of a dashboard widget loads the rows behind it (the widget's source under the
// caller's scope, filtered by the clicked value) under the widget, through HTMX. dashboard.js announces each drawn
// chart with an "ll:chart-drawn" event carrying its Vega view; no inline script, so the CSP stays as it is.
(function () {
  "use strict";

  function clickedValue(datum, field, temporal) {
    const value = datum[field];
    if (value instanceof Date) return value.toISOString().slice(0, 10);
    // Vega-Lite parses a temporal field's ISO date (UTC midnight) into a timestamp.
    if (temporal && typeof value === "number") return new Date(value).toISOString().slice(0, 10);
    return value;
  }

  // A line's (or an area's) path is one item whose datum is its first point's: a click on the path is the point
  // nearest the pointer along x. Points themselves (drawn, or transparent: dashboards.presenters.chart_payload) are
  // items of their own and need nothing of this.
  function clickedDatum(view, event, item) {
    const type = item.mark && item.mark.marktype;
    const items = (item.mark && item.mark.items) || [];
    if ((type !== "line" && type !== "area") || items.length < 2) return item.datum;
    if (typeof event.clientX !== "number") return item.datum;
    let x;
    const node = item._svg; // the SVG renderer's element of the path, drawn in the coordinates of the items' x
    if (node && node.getScreenCTM && node.getScreenCTM()) {
      x = new DOMPoint(event.clientX, event.clientY).matrixTransform(node.getScreenCTM().inverse()).x;
    } else {
      const surface = view.container() && view.container().querySelector("svg, canvas");
      if (!surface) return item.datum;
      x = event.clientX - surface.getBoundingClientRect().left - view.origin()[0] - view.padding().left;
      for (let group = item.mark.group; group; group = group.mark && group.mark.group) x -= group.x || 0;
    }
    let best = items[0];
    for (const candidate of items) {
      if (Math.abs(candidate.x - x) < Math.abs(best.x - x)) best = candidate;
    }
    return best.datum;
  }

  function panelFor(widget) {
    let panel = document.getElementById("drill-" + widget.id);
    if (!panel) {
      panel = document.createElement("div");
      panel.id = "drill-" + widget.id;
      panel.className = "drill-panel span-12";
      widget.insertAdjacentElement("afterend", panel);
    }
    return panel;
  }

  document.addEventListener("ll:chart-drawn", (event) => {
    const target = event.target;
    const widget = target.closest("[data-widget-url]");
    const source = document.getElementById(target.dataset.chartJson);
    if (!widget || !source || !window.htmx) return;
    const encoding = (JSON.parse(source.textContent).spec || {}).encoding || {};
    const field = encoding.x && encoding.x.field;
    if (!field) return;
    target.classList.add("drillable");
    const view = event.detail.view;
    view.addEventListener("click", (clickEvent, item) => {
      if (!item || !item.datum) return;
      const datum = clickedDatum(view, clickEvent, item);
      if (!datum || datum[field] === undefined || datum[field] === null) return;
      const base = new URL(widget.dataset.widgetUrl, window.location.origin);
      const url = new URL(base.pathname + "rows/", window.location.origin);
      base.searchParams.forEach((value, key) => url.searchParams.set(key, value));
      url.searchParams.set("field", field);
      url.searchParams.set("value", String(clickedValue(datum, field, encoding.x.type === "temporal")));
      window.htmx.ajax("GET", url.pathname + url.search, { target: panelFor(widget), swap: "innerHTML" });
    });
  });

  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-drill-close]");
    if (!close) return;
    const panel = close.closest(".drill-panel");
    if (panel) panel.remove();
  });
})();
