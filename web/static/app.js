// The Mini App's first page: hands Telegram's signed initData to the server, which
// answers with a session cookie, then opens the member's page. Telegram passes initData
// in the address's fragment (tgWebAppData); its own script, if present, has it too.
(function () {
  "use strict";
  function show(id) {
    document.getElementById("app-wait").hidden = true;
    document.getElementById(id).hidden = false;
  }
  function initData() {
    var tg = window.Telegram && window.Telegram.WebApp;
    if (tg && tg.initData) return tg.initData;
    var fragment = new URLSearchParams(window.location.hash.slice(1));
    return fragment.get("tgWebAppData") || "";
  }
  var data = initData();
  if (!data) { show("app-outside"); return; }
  fetch("/app/auth", {
    method: "POST",
    body: data,
    credentials: "same-origin",
    headers: { "Content-Type": "text/plain;charset=UTF-8" }
  }).then(function (response) {
    if (response.status === 204) { window.location.replace("/app/home"); }
    else if (response.status === 403) { show("app-stranger"); }
    else { show("app-refused"); }
  }, function () { show("app-refused"); });
})();
