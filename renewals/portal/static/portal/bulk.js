// Bulk selection on the subscriptions list (R8). The form works without this script: the
// "all on this page" and "all matching" boxes are resolved on the server. This mirrors them on
// the row boxes so that what is ticked is what is seen, and keeps the toolbar's count (a live
// region, read out by screen readers) and its buttons in step with the selection.
(function () {
  "use strict";
  var form = document.getElementById("bulk-form");
  if (!form) { return; }
  var page = document.querySelector("[data-bulk-page]");
  var all = document.querySelector("[data-bulk-all]");
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-bulk-row]"));
  var counter = form.querySelector("[data-selection-count]");
  var buttons = Array.prototype.slice.call(form.querySelectorAll("[data-bulk-button]"));
  var total = parseInt(form.getAttribute("data-total"), 10) || 0;

  function text(count) {
    if (count === 0) { return form.getAttribute("data-zero"); }
    var template = form.getAttribute(count === 1 ? "data-one" : "data-other");
    return template.replace("{n}", count.toLocaleString(document.documentElement.lang || undefined));
  }

  function update() {
    var count = (all && all.checked) ? total : rows.filter(function (box) { return box.checked; }).length;
    if (counter) { counter.textContent = text(count); }
    buttons.forEach(function (button) { button.disabled = count === 0; });
  }

  function tickRows(checked) {
    rows.forEach(function (box) { box.checked = checked; });
  }
  if (page) {
    page.addEventListener("change", function () { tickRows(page.checked); update(); });
  }
  if (all) {
    all.addEventListener("change", function () {
      tickRows(all.checked);
      if (page) { page.checked = all.checked; }
      update();
    });
  }
  rows.forEach(function (box) {
    box.addEventListener("change", function () {
      // Unticking one row undoes "all on this page" / "all matching", which the server would
      // otherwise still apply.
      if (!box.checked) {
        if (page) { page.checked = false; }
        if (all) { all.checked = false; }
      }
      update();
    });
  });
  update();
}());
