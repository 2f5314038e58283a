// Dashboard widgets: draw Vega-Lite charts from the JSON the server put in the page (json_script),
// export them as PNG/SVG, and poll so a finished refresh shows up within seconds: a dashboard page asks once
// per interval which widgets changed (one request for all of them) and re-fetches only those; a widget opened
// on its own page polls itself with its ETag.
// Vega compiles expressions with `new Function`, which our CSP forbids: we hand it the AST interpreter.
(function () {
  "use strict";
  const views = new WeakMap();
  const specs = new WeakMap(); // what each chart was drawn from: an export draws it again with its title
  const timers = new Map();

  function embedOptions() {
    const options = { actions: false, renderer: "svg" };
    if (window.vegaInterpreter) {
      options.ast = true;
      options.expr = window.vegaInterpreter.expressionInterpreter;
    }
    return options;
  }

  function draw(content) {
    const target = content.querySelector("[data-chart-json]");
    if (!target || target.dataset.drawn) return;
    const source = document.getElementById(target.dataset.chartJson);
    if (!source || !window.vegaEmbed) return;
    const chart = JSON.parse(source.textContent);
    const spec = Object.assign({}, chart.spec, {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      data: { values: chart.rows },
      width: "container",
      height: Math.max(180, target.clientHeight || 240),
      autosize: { type: "fit", contains: "padding" },
    });
    target.dataset.drawn = "1";
    specs.set(content, { spec: spec, title: chart.title || "" });
    window
      .vegaEmbed(target, spec, embedOptions())
      .then((result) => {
        views.set(content, result.view);
        target.dataset.rendered = "1";
        target.dispatchEvent(new CustomEvent("ll:chart-drawn", { bubbles: true, detail: { view: result.view } }));
      })
      .catch((error) => {
        target.textContent = "This chart could not be drawn: " + error.message;
        target.classList.add("error");
      });
  }

  function download(url, name) {
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-export]");
    if (!button) return;
    const content = button.closest(".widget-content");
    const view = content && views.get(content);
    if (!view) return;
    const format = button.dataset.export;
    const drawn = specs.get(content);
    const title = ((drawn && drawn.title) || (content.querySelector("h3") || {}).textContent || "chart").trim();
    const name = title.toLowerCase().replace(/[^a-z0-9]+/g, "-") + "." + format;
    const scale = format === "png" ? 2 : 1;
    if (!drawn) {
      view.toImageURL(format, scale).then((url) => download(url, name));
      return;
    }
    // The page shows the title above the chart; a file on its own carries it in the image.
    const width = Math.max(320, (content.querySelector("[data-chart-json]") || {}).clientWidth || 640);
    const holder = document.createElement("div");
    holder.style.cssText = "position:absolute;left:-10000px;top:0;width:" + width + "px";
    document.body.appendChild(holder);
    const titled = Object.assign({}, drawn.spec, { title: { text: title, anchor: "start" }, width: width });
    window
      .vegaEmbed(holder, titled, embedOptions())
      .then((result) => result.view.toImageURL(format, scale))
      .then((url) => download(url, name))
      .finally(() => holder.remove());
  });

  function pollGrid(grid) {
    if (document.hidden) return;
    fetch(grid.dataset.changesUrl, {
      headers: { "If-None-Match": grid.dataset.etag || "" },
      cache: "no-store",
      credentials: "same-origin",
    }).then((response) => {
      if (response.status !== 200) return; // 304: no widget changed
      grid.dataset.etag = response.headers.get("ETag") || "";
      return response.json().then((answer) => {
        Object.entries(answer.widgets || {}).forEach(([id, etag]) => {
          const widget = grid.querySelector("#widget-" + id);
          const content = widget && widget.querySelector(".widget-content");
          if (content && content.dataset.etag !== etag) poll(widget);
        });
      });
    });
  }

  function schedule(widget) {
    const grid = widget.closest("[data-changes-url]");
    if (grid) {
      if (timers.has(grid)) return;
      const seconds = Math.max(5, parseInt(grid.dataset.pollSeconds || "10", 10));
      timers.set(
        grid,
        setInterval(() => pollGrid(grid), seconds * 1000),
      );
      return;
    }
    const content = widget.querySelector(".widget-content");
    if (!content || timers.has(widget)) return;
    const seconds = Math.max(5, parseInt(content.dataset.pollSeconds || "10", 10));
    timers.set(
      widget,
      setInterval(() => poll(widget), seconds * 1000),
    );
  }

  function poll(widget) {
    const content = widget.querySelector(".widget-content");
    const url = widget.dataset.widgetUrl;
    if (!content || !url || document.hidden) return;
    fetch(url, {
      headers: { "HX-Request": "true", "If-None-Match": content.dataset.etag || "" },
      cache: "no-store",
      credentials: "same-origin",
    }).then((response) => {
      if (response.status !== 200) return; // 304: nothing changed
      return response.text().then((html) => {
        widget.innerHTML = html;
        if (window.htmx) window.htmx.process(widget);
        const fresh = widget.querySelector(".widget-content");
        if (fresh) draw(fresh);
      });
    });
  }

  function setup(root) {
    root.querySelectorAll(".widget-content").forEach((content) => {
      draw(content);
      const widget = content.closest("[data-widget-url]");
      if (widget) schedule(widget);
    });
  }

  document.addEventListener("htmx:afterSettle", (event) => setup(event.target));
  document.addEventListener("DOMContentLoaded", () => setup(document));
})();
