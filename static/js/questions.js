// Question builder: a preview that takes a while says so ("Running… n s") with a Cancel that stops its query on the
// server (POST to the form's data-cancel-url with the preview's run id, which the preview request sent as
// X-Preview-Run). A newer pick replaces a running preview (hx-sync): its query is cancelled the same way. No inline
// script: the CSP stays as it is.
(function () {
  "use strict";

  let current = null; // { run, form, timer }

  function runId() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function cancelOnServer(form, run) {
    const body = new URLSearchParams({ run: run });
    return fetch(form.dataset.cancelUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    }).catch(() => null);
  }

  function stop() {
    if (current && current.timer) window.clearInterval(current.timer);
    current = null;
  }

  function start(form, run) {
    const progress = form.querySelector("[data-testid=preview-progress]");
    const seconds = form.querySelector("[data-preview-seconds]");
    const started = Date.now();
    const tick = () => {
      const elapsed = Math.floor((Date.now() - started) / 1000);
      if (seconds) seconds.textContent = String(elapsed);
      if (progress && elapsed >= 1) progress.hidden = false; // a quick preview never shows it
    };
    current = { run: run, form: form, timer: window.setInterval(tick, 250) };
  }

  document.addEventListener("htmx:configRequest", (event) => {
    const form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-question-form]");
    if (!form || event.detail.verb !== "get") return;
    if (current) cancelOnServer(current.form, current.run); // replaced by this newer preview
    stop();
    const run = runId();
    event.detail.headers["X-Preview-Run"] = run;
    start(form, run);
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-question-form]");
    if (form && current && current.form === form) stop();
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-preview-cancel]");
    if (!button || !current) return;
    event.preventDefault();
    button.disabled = true;
    button.textContent = "Cancelling…";
    // The preview's own request then answers that it was cancelled.
    cancelOnServer(current.form, current.run);
  });
})();
