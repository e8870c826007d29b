/* UnionPortal page behaviour. Loaded as a file (strict CSP: no inline scripts or handlers). */
(function () {
  "use strict";

  function initToasts(root) {
    if (!window.bootstrap) return;
    root.querySelectorAll(".toast[data-autohide]").forEach(function (el) {
      window.bootstrap.Toast.getOrCreateInstance(el, { delay: 6000, autohide: true }).show();
    });
  }

  // Progress bars get their width from data-rate (0–100): no style attributes in markup.
  function initRates(root) {
    root.querySelectorAll("[data-rate]").forEach(function (el) {
      var rate = parseFloat(el.getAttribute("data-rate"));
      if (!isNaN(rate)) el.style.width = Math.max(0, Math.min(100, rate)) + "%";
    });
  }

  // Tree toggles: htmx loads the children on the first click (hx-trigger="click once");
  // every click here only shows or hides the list and never follows the fallback link.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-tree-toggle]");
    if (!toggle) return;
    event.preventDefault();
    var box = document.getElementById(toggle.getAttribute("data-tree-toggle"));
    if (!box) return;
    var open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", open ? "false" : "true");
    box.classList.toggle("d-none", open);
  });

  // A form that asks before doing something that cannot be undone easily.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // A table wider than its box scrolls sideways: keyboard users need to reach it (Tab, then arrows).
  function initScrollers(root) {
    root.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) box.setAttribute("tabindex", "0");
      else box.removeAttribute("tabindex");
    });
  }

  // A form that came back with errors: put the cursor in the first field to fix.
  function focusFirstError() {
    var field = document.querySelector("main .is-invalid");
    if (field && typeof field.focus === "function") field.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    initToasts(document);
    initRates(document);
    initScrollers(document);
    focusFirstError();
  });
  window.addEventListener("resize", function () {
    initScrollers(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    initRates(event.target);
    initScrollers(document);
  });
})();

/* Members pages: toasts that arrive with htmx answers, and the poster's print button. */
(function () {
  "use strict";

  document.addEventListener("htmx:afterSettle", function () {
    if (!window.bootstrap) return;
    var box = document.getElementById("member-toasts");
    if (!box) return;
    box.querySelectorAll(".toast[data-autohide]:not([data-toast-ready])").forEach(function (el) {
      el.setAttribute("data-toast-ready", "1");
      window.bootstrap.Toast.getOrCreateInstance(el, { delay: 6000, autohide: true }).show();
    });
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
})();

/* Searchable pickers whose options are all in the page (a worker's list of mediation
   bodies): the search box above the select keeps only the options whose text holds what
   was typed. Options are removed and put back rather than hidden: phones' native pickers
   ignore hidden options. The chosen option always stays. */
(function () {
  "use strict";

  document.addEventListener("input", function (event) {
    var box = event.target.closest && event.target.closest("[data-filter-select]");
    if (!box) return;
    var select = document.getElementById(box.getAttribute("data-filter-select"));
    if (!select) return;
    if (!select._allOptions) select._allOptions = Array.prototype.slice.call(select.options);
    var needle = box.value.trim().toLowerCase();
    var chosen = select.value;
    var keep = select._allOptions.filter(function (option) {
      return !needle || option.value === "" || option.value === chosen || option.text.toLowerCase().indexOf(needle) !== -1;
    });
    select.replaceChildren.apply(select, keep);
    select.value = chosen;
  });
})();
