/* MarTech Console first-party snippet: page views with first- and last-touch state.
 *
 *   <script>window.martech = {writeKey: "wk_…", host: "https://console.acme.example"};</script>
 *   <script src="https://console.acme.example/static/js/collect.js" async></script>
 *
 * On every page it sends a page call to the console. It keeps, in this site's own storage,
 * the visitor's anonymous id and the attribution state: UTM_First_* is set once and stays;
 * UTM_Last_* is overwritten each time the visitor arrives from a new marketing touch (UTMs,
 * an ad click id, or a referrer from another site), never on direct or internal navigation.
 * With Global Privacy Control on, the browser sends Sec-GPC: 1 and the console records the
 * opt-out of sale/share; the snippet also says so in the event's context.
 */
(function () {
  "use strict";
  var cfg = window.martech || {};
  if (!cfg.writeKey || !cfg.host) return;
  var STORE = "mtc_state";
  var FIELDS = ["source", "medium", "campaign", "content", "term"];
  var CLICK_IDS = ["gclid", "gbraid", "wbraid", "dclid", "fbclid", "ttclid", "li_fat_id",
    "msclkid", "twclid", "ScCid", "epik"];

  function load() {
    try { return JSON.parse(window.localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }
  function save(state) {
    try { window.localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* full */ }
  }
  function uuid() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (Math.random() * 16) | 0;
      return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
    });
  }
  function site(host) {
    var parts = host.split(".");
    return parts.slice(-2).join(".");
  }

  var state = load();
  state.anonymousId = state.anonymousId || "mtc-" + uuid();
  var params = new URLSearchParams(window.location.search);
  var touch = {};
  FIELDS.forEach(function (f) {
    var v = params.get("utm_" + f);
    if (v) touch[f] = v;
  });
  CLICK_IDS.forEach(function (id) {
    var v = params.get(id);
    if (v && !touch.click_id) { touch.click_id = v; touch.click_id_type = id; }
  });
  var referrer = document.referrer || "";
  var refHost = "";
  try { refHost = referrer ? new URL(referrer).hostname : ""; } catch (e) { refHost = ""; }
  var external = refHost && site(refHost) !== site(window.location.hostname);
  if (external) touch.referrer = refHost;
  var marketing = Object.keys(touch).length > 0;
  var internal = refHost && !external;
  if (!state.first && !internal) state.first = marketing ? touch : { medium: "direct" };
  if (marketing) state.last = touch;
  save(state);

  var properties = {
    url: window.location.href, path: window.location.pathname, title: document.title,
    referrer: referrer,
  };
  FIELDS.forEach(function (f) {
    var name = f.charAt(0).toUpperCase() + f.slice(1);
    if (state.first && state.first[f]) properties["UTM_First_" + name] = state.first[f];
    if (state.last && state.last[f]) properties["UTM_Last_" + name] = state.last[f];
  });
  var gpc = navigator.globalPrivacyControl === true;
  var message = {
    type: "page", anonymousId: state.anonymousId, messageId: "mtc-" + uuid(),
    name: document.title, timestamp: new Date().toISOString(), properties: properties,
    context: {
      page: { url: window.location.href, referrer: referrer, title: document.title },
      library: { name: "martech-collect.js", version: "1" },
      userAgent: navigator.userAgent, gpc: gpc,
    },
  };
  var host = cfg.host.replace(/\/$/, "");
  window.fetch(host + "/v1/page", {
    method: "POST", keepalive: true, mode: "cors", credentials: "omit",
    headers: { "Content-Type": "application/json", Authorization: "Basic " + btoa(cfg.writeKey + ":") },
    body: JSON.stringify(message),
  }).catch(function () { /* offline: the next page view tries again */ });
})();
