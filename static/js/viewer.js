// Every chart in the viewer's locale and colour scheme: numbers, money and dates in axis labels and tooltips
// as the server writes them in tables (dashboards/viewer_format.py sends the d3 locale as #ll-viewer), and
// Vega's dark theme when the system is dark. It wraps vegaEmbed once, so every page's chart script gets it.
(function () {
  "use strict";
  const dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function viewer() {
    const element = document.getElementById("ll-viewer");
    return element ? JSON.parse(element.textContent) : null;
  }

  function options(given) {
    const locale = viewer();
    const config = {};
    const extra = {};
    if (locale) {
      extra.formatLocale = locale.number;
      extra.timeFormatLocale = locale.time;
      config.timeFormat = locale.time.date;
    }
    if (dark && dark.matches) {
      extra.theme = "dark";
      // The page's own background, so a chart (and its exported image) sits on the page, not on a grey box.
      config.background = getComputedStyle(document.documentElement).backgroundColor || "#13171f";
    }
    const merged = Object.assign(extra, given || {});
    merged.config = Object.assign(config, (given && given.config) || {});
    return merged;
  }

  function wrap() {
    const embed = window.vegaEmbed;
    if (!embed || embed.viewerWrapped) return;
    const wrapped = function (element, spec, given) {
      return embed(element, spec, options(given));
    };
    Object.assign(wrapped, embed);
    wrapped.viewerWrapped = true;
    window.vegaEmbed = wrapped;
  }

  // Deferred scripts have all run by now (vega-embed among them), and before the charts' own listeners.
  document.addEventListener("DOMContentLoaded", wrap);
})();
