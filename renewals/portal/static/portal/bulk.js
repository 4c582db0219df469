// Bulk selection on the subscriptions list (R8). The form works without this script: the
// "all on this page" and "all matching" boxes are resolved on the server. This only mirrors
// them on the row boxes so that what is ticked is what is seen.
(function () {
  "use strict";
  var form = document.getElementById("bulk-form");
  if (!form) { return; }
  var page = document.querySelector("[data-bulk-page]");
  var all = document.querySelector("[data-bulk-all]");
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-bulk-row]"));

  function tickRows(checked) {
    rows.forEach(function (box) { box.checked = checked; });
  }
  if (page) {
    page.addEventListener("change", function () { tickRows(page.checked); });
  }
  if (all) {
    all.addEventListener("change", function () {
      tickRows(all.checked);
      if (page) { page.checked = all.checked; }
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
    });
  });
}());
