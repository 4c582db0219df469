// Small progressive enhancements of every portal page; each page works without this script.
// 1. The header collapses behind a "Menu" button on narrow screens.
// 2. Table cells get the label of their column, so that rows read as cards on a phone.
(function () {
  "use strict";
  var NARROW = window.matchMedia("(max-width: 760px)");

  function setUpMenu() {
    var topbar = document.querySelector("[data-topbar]");
    var toggle = document.querySelector("[data-navtoggle]");
    if (!topbar || !toggle) { return; }
    toggle.hidden = false;
    topbar.classList.add("collapsible");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      topbar.classList.toggle("open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && topbar.classList.contains("open") && NARROW.matches) {
        toggle.setAttribute("aria-expanded", "false");
        topbar.classList.remove("open");
        toggle.focus();
      }
    });
  }

  function labelCells() {
    document.querySelectorAll("main table").forEach(function (table) {
      var heads = Array.prototype.map.call(
        table.querySelectorAll("thead th"),
        function (th) {
          // A column whose heading is a control or only read by screen readers (the row
          // checkbox, "Remove") gets no visible label.
          var hidden = th.querySelector(".visually-hidden");
          if (th.querySelector("input") || (hidden && hidden.textContent === th.textContent.trim())) {
            return "";
          }
          return th.textContent.replace(/[\s↑↓]+/g, " ").trim();
        }
      );
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, index) {
          if (!cell.hasAttribute("data-label") && heads[index]) {
            cell.setAttribute("data-label", heads[index]);
          }
        });
      });
    });
  }

  function start() { setUpMenu(); labelCells(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
