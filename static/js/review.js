// The review page's transform editor: remove a step, add a value-map pair, add a row (another target of a
// column, or a computed column). Steps and rows come from the server (HTMX); this file only numbers rows,
// removes what the user removes and asks for a fresh preview.
(function () {
  const form = document.getElementById("review-form");
  if (!form) return;
  const rows = form.querySelector("input[name=rows]");
  const tbody = form.querySelector("[data-testid=review-table] tbody");
  const refresh = () => form.dispatchEvent(new Event("change", { bubbles: true }));

  form.addEventListener("click", (event) => {
    const removeStep = event.target.closest("[data-remove-step]");
    if (removeStep) {
      const step = removeStep.closest(".step");
      const cell = step.closest("td");
      step.remove();
      cell.querySelector("[data-testid=add-op]").focus();
      refresh();
      return;
    }
    const removeRow = event.target.closest("[data-remove-row]");
    if (removeRow) {
      const row = removeRow.closest("tr");
      const back = row.previousElementSibling;
      row.remove(); // its number stays unused: the server skips empty rows
      if (back) back.querySelector("select").focus();
      refresh();
      return;
    }
    const addPair = event.target.closest("[data-add-pair]");
    if (addPair) {
      const pairs = addPair.closest(".step").querySelector(".value-map tbody");
      const pair = pairs.lastElementChild.cloneNode(true);
      pair.querySelectorAll("input").forEach((input) => { input.value = ""; });
      pairs.appendChild(pair);
      pair.querySelector("input").focus();
      return;
    }
    const addRow = event.target.closest("[data-add-row]");
    if (addRow) {
      const index = parseInt(rows.value, 10) || 0;
      rows.value = String(index + 1);
      const params = new URLSearchParams({ row: String(index) });
      if (addRow.dataset.sourceCol) params.set("source_col", addRow.dataset.sourceCol);
      const after = addRow.closest("tr");
      htmx.ajax("GET", `${addRow.dataset.url}?${params}`, {
        target: after || tbody,
        swap: after ? "afterend" : "beforeend",
      });
    }
  });

  // A step or a row arrived: focus its first box and preview the mapping with it.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (!form.contains(target) || target.id === "preview") return;
    let added = null;
    if (target.classList.contains("steps")) added = target.lastElementChild;
    else if (target === tbody) added = tbody.lastElementChild;
    else if (target.tagName === "TR") added = target.nextElementSibling;
    const box = added && added.querySelector("select:not([form]), input:not([type=hidden])");
    if (box) box.focus();
    refresh();
  });
})();
