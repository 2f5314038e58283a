// Site-wide behaviour. No inline scripts anywhere: the Content-Security-Policy forbids them.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});

// The header's links on wide screens without ::details-content (app.css shows them where it is known): the
// menu is opened there; on a phone it stays the Menu button the user opens (templates/base.html).
(function () {
  const menu = document.querySelector("[data-site-menu]");
  if (!menu || !window.matchMedia || (window.CSS && CSS.supports("selector(::details-content)"))) return;
  const wide = window.matchMedia("(min-width: 769px)");
  const fit = () => {
    if (wide.matches) menu.open = true;
  };
  fit();
  wide.addEventListener("change", fit);
})();
