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
    event.detail.view.addEventListener("click", (_event, item) => {
      if (!item || !item.datum || item.datum[field] === undefined || item.datum[field] === null) return;
      const base = new URL(widget.dataset.widgetUrl, window.location.origin);
      const url = new URL(base.pathname + "rows/", window.location.origin);
      base.searchParams.forEach((value, key) => url.searchParams.set(key, value));
      url.searchParams.set("field", field);
      url.searchParams.set("value", String(clickedValue(item.datum, field, encoding.x.type === "temporal")));
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
