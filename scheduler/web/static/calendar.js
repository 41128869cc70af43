// The calendar of a static export (`clarion preview --format html`), without a server: the
// filters and the colour apply in the browser and live in the address's #fragment (so that a
// link shows the same view); the view and the time zone are other files, reached with the
// same fragment. Nothing is fetched: it works from disk.
(function () {
  "use strict";
  var FILTERS = ["campaign", "channel", "language", "audience", "state"];
  var FIELDS = FILTERS.concat(["from", "until", "colour"]);

  function wanted(form) {
    var chosen = new URLSearchParams();
    FIELDS.forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value && !(name === "colour" && field.value === "channel")) {
        chosen.set(name, field.value);
      }
    });
    return chosen;
  }

  function fill(form, chosen) {
    FIELDS.forEach(function (name) {
      var field = form.elements[name];
      if (field) { field.value = chosen.get(name) || (name === "colour" ? "channel" : ""); }
    });
  }

  function matches(event, chosen) {
    for (var i = 0; i < FILTERS.length; i++) {
      var want = chosen.get(FILTERS[i]);
      if (want && event.dataset[FILTERS[i]] !== want) { return false; }
    }
    var day = event.dataset.day;
    var from = chosen.get("from");
    var until = chosen.get("until");
    return !(from && day < from) && !(until && day > until);
  }

  function show(form, chosen) {
    var limit = form.dataset.cell ? Number(form.dataset.cell) : 0;
    var month = document.querySelector("table.cal.month") !== null;
    var colour = chosen.get("colour") === "campaign" ? "campaign" : "channel";
    var total = 0;
    document.querySelectorAll("table.cal td").forEach(function (cell) {
      var visible = 0;
      cell.querySelectorAll("li.event").forEach(function (event) {
        var ok = matches(event, chosen);
        if (ok) { visible += 1; }
        event.hidden = !ok || (month && visible > limit);
        event.classList.remove(event.dataset.channelColour, event.dataset.campaignColour);
        event.classList.add(event.dataset[colour + "Colour"]);
      });
      total += visible;
      var more = cell.querySelector(".more");
      if (more) {
        more.hidden = !(month && visible > limit);
        if (!more.hidden) { more.textContent = "+" + (visible - limit) + " more"; }
      }
    });
    document.getElementById("shown").textContent = String(total);
    document.querySelectorAll("[data-legend]").forEach(function (legend) {
      legend.hidden = legend.dataset.legend !== colour;
    });
    var fragment = chosen.toString() ? "#" + chosen.toString() : "";
    document.querySelectorAll("a[href^='calendar-']").forEach(function (link) {
      if (!link.dataset.file) { link.dataset.file = link.getAttribute("href"); }
      link.setAttribute("href", link.dataset.file + fragment);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-static]");
    if (!form) { return; }
    form.hidden = false;
    function fromAddress() {
      var chosen = new URLSearchParams(location.hash.slice(1));
      fill(form, chosen);
      show(form, chosen);
    }
    function fromForm() {
      var chosen = wanted(form);
      location.replace("#" + chosen.toString());  // no new history entry; hashchange shows it
      show(form, chosen);
    }
    form.querySelectorAll("select[data-navigate]").forEach(function (select) {
      select.addEventListener("change", function () {
        location.href = select.value + location.hash;
      });
    });
    form.addEventListener("change", function (event) {
      if (!event.target.hasAttribute("data-navigate")) { fromForm(); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      fromForm();
    });
    window.addEventListener("hashchange", fromAddress);
    fromAddress();
  });
})();
