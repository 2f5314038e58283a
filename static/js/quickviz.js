// Quick Viz: render every Vega-Lite spec on the page (specs reach us through json_script, never inline JS).
// The CSP forbids eval, so Vega runs its expressions through the AST interpreter.
(function () {
  function render(root) {
    if (typeof vegaEmbed === "undefined") return;
    root.querySelectorAll(".vega-chart[data-spec-id]").forEach((el) => {
      if (el.dataset.rendered) return;
      const script = document.getElementById(el.dataset.specId);
      if (!script) return;
      el.dataset.rendered = "1";
      const options = { actions: false, renderer: "svg" };
      if (window.vegaInterpreter) {
        options.ast = true;
        options.expr = window.vegaInterpreter.expressionInterpreter;
      }
      vegaEmbed(el, JSON.parse(script.textContent), options).catch((err) => {
        el.textContent = "Chart could not be drawn: " + err.message;
      });
    });
  }
  document.addEventListener("DOMContentLoaded", () => render(document));
  document.addEventListener("htmx:afterSwap", (event) => render(event.target));
})();
