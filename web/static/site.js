// Adds what a script can: the meeting's time in the visitor's own time zone.
// Every page works without it; nothing here is needed to read or search.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    var target = document.getElementById(el.getAttribute("data-local"));
    if (isNaN(when.getTime()) || !target || !window.Intl) return;
    var text = new Intl.DateTimeFormat(lang, {
      weekday: "long", day: "numeric", month: "long", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    }).format(when);
    var slot = target.querySelector("strong");
    if (slot) slot.textContent = text;
    target.hidden = false;
  });
})();
