// With `kb serve` (tools/kb/serve/) the site also asks 这篇文章有帮助吗？ under each article and
// logs what the search page searched and which result was opened (scrubbed on the server;
// no cookie, nothing kept in the browser beyond this tab's session). Read from file:// or
// from any other web server it does nothing and requests nothing: only kb serve sends this
// file with `window.kbServe = true;` in front (kb.serve.app.SERVE_SWITCH), and only then is
// /api/health asked. On the search page it also lends kb-search.js the hybrid engine of
// /api/search (see remoteSearch).
(function () {
  if (!window.kbServe) return;
  var root = new URL("../../", document.currentScript.src);
  var OPENED = "kb-serve-opened", VOTED = "kb-serve-voted:";
  var ARTICLE = /\/kb\/(KB-\d{4,})\/$/;
  var QUERY_LIMIT = 200;  // characters the server accepts (kb.serve.app.QUERY_LIMIT)

  function session(key, value) {
    try {
      if (value === undefined) return sessionStorage.getItem(key);
      sessionStorage.setItem(key, value);
    } catch (e) { /* storage off: the feedback still works, without memory */ }
    return null;
  }
  function api(path, options) {
    return fetch(new URL("api/" + path, root).href, Object.assign({credentials: "omit", cache: "no-store"}, options || {}));
  }
  function post(path, body) {
    // keepalive: a click on a result is sent even though the page is being left.
    return api(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body), keepalive: true});
  }

  function feedback() {
    var match = ARTICLE.exec(location.pathname);
    var article = document.querySelector("article.md-content__inner") || document.querySelector("article");
    if (!match || !article || document.querySelector(".kb-feedback")) return;
    var id = match[1];
    if (session(VOTED + id)) return;
    var opened = null;
    try { opened = JSON.parse(session(OPENED) || "null"); } catch (e) { opened = null; }
    var searchId = opened && opened.article === id ? opened.search : null;
    var box = document.createElement("section");
    box.className = "kb-feedback admonition question";
    box.setAttribute("aria-labelledby", "kb-feedback-title");
    box.innerHTML = '<p class="admonition-title" id="kb-feedback-title">这篇文章有帮助吗？</p>' +
      '<p class="kb-feedback__choices"><button type="button" class="md-button md-button--primary" data-helpful="true">有帮助</button> ' +
      '<button type="button" class="md-button" data-helpful="false">没帮助</button></p>' +
      '<form class="kb-feedback__form" hidden><p><label for="kb-feedback-comment">哪里没有说清楚？（选填，最多 500 字）</label></p>' +
      '<textarea id="kb-feedback-comment" maxlength="500" rows="3" style="width:100%;box-sizing:border-box"></textarea>' +
      '<p><button type="submit" class="md-button md-button--primary">提交</button></p></form>' +
      '<p class="kb-feedback__status" role="status" aria-live="polite"></p>';
    article.append(box);
    var choices = box.querySelector(".kb-feedback__choices"), form = box.querySelector("form");
    var status = box.querySelector(".kb-feedback__status");

    function send(helpful, comment) {
      var body = {article: id, helpful: helpful};
      if (comment) body.comment = comment;
      if (searchId) body.search_id = searchId;
      status.textContent = "正在提交…";
      api("feedback", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
        .then(function (r) {
          if (r.ok) {
            session(VOTED + id, "1");
            choices.hidden = true; form.hidden = true;
            status.textContent = helpful ? "谢谢您的反馈！" : "谢谢您的反馈！我们会改进这篇文章。仍未解决请拨打服务热线。";
          } else {
            status.textContent = r.status === 429 ? "提交过于频繁，请稍后再试。" : "暂时无法提交，请稍后再试。";
          }
        }, function () { status.textContent = "暂时无法提交，请稍后再试。"; });
    }
    choices.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("button[data-helpful]");
      if (!button) return;
      if (button.getAttribute("data-helpful") === "true") { send(true, ""); return; }
      choices.hidden = true; form.hidden = false;
      form.querySelector("textarea").focus();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(false, form.querySelector("textarea").value.trim());
    });
  }

  var health = null;
  function healthy() {
    if (!health) health = api("health").then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; });
    return health;
  }

  // The search page's remote engine (kb-search.js takes it from window.kbSearchRemote and
  // shows its answer when it comes in time). /api/search logs the query it answers, so the
  // last query asked is remembered with its answer: the same query again is not asked (nor
  // logged) twice in a row, and searchLog takes that request's id rather than asking again.
  var asked = null;  // {query, limit, answer: promise, id: promise of the search id, null if not logged}
  function remoteSearch(query, limit) {
    limit = String(limit || 10);
    if (Array.from(query).length > QUERY_LIMIT) return Promise.resolve(null);  // the server would refuse it
    if (asked && asked.query === query && asked.limit === limit) return asked.answer;
    // Asked together with /api/health, not after it: on a page load this script runs late
    // (after the theme's bundle), and the static engine is already under way.
    var request = api("search?q=" + encodeURIComponent(query) + "&limit=" + encodeURIComponent(limit));
    var answer = Promise.all([healthy(), request]).then(function (both) {
      var h = both[0], r = both[1];
      if (!h || !h.ok || !h.search) throw new Error("search unavailable");
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json().then(function (hits) {
        var corrected = r.headers.get("X-KB-Corrected");
        return {hits: hits, confident: r.headers.get("X-KB-Confident") !== "0",
                outOfScope: r.headers.get("X-KB-Out-Of-Scope") === "1",
                corrected: corrected ? decodeURIComponent(corrected) : null, retrieval: r.headers.get("X-KB-Retrieval")};
      });
    });
    var id = request.then(function (r) { return r.ok ? r.headers.get("X-KB-Search-Id") : null; }, function () { return null; });
    asked = {query: query, limit: limit, answer: answer, id: id};
    return answer;
  }
  (window.kbSearchRemote = window.kbSearchRemote || []).push({search: remoteSearch});

  function searchLog() {
    var results = document.querySelector("[data-kb-results]");
    if (!results) return;
    var input = (results.closest("[data-kb-search]") || document).querySelector("input[name=q]");
    var logged = "", current = null;
    function log() {
      if (!input || results.getAttribute("data-kb-state") !== "done") return;
      var query = input.value.trim();
      if (!query || query === logged || Array.from(query).length > QUERY_LIMIT) return;
      logged = query; current = null;
      var limit = results.getAttribute("data-kb-limit") || "10";
      // Asked by the remote engine (whichever engine's results are shown): when the server
      // answered, that request logged it; otherwise it is logged as before.
      var mine = asked && asked.query === query && asked.limit === limit ? asked.id : Promise.resolve(null);
      mine.then(function (id) {
        if (id) { if (query === logged) current = id; return; }
        api("search?q=" + encodeURIComponent(query) + "&limit=" + encodeURIComponent(limit)).then(function (r) {
          if (r.ok && query === logged) current = r.headers.get("X-KB-Search-Id");
        }, function () { /* not logged: the page's own results are shown all the same */ });
      });
    }
    new MutationObserver(log).observe(results, {attributes: true, attributeFilter: ["data-kb-state"]});
    log();  // the first search may have finished before this script ran
    results.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[href]");
      var match = link && ARTICLE.exec(new URL(link.href, location.href).pathname);
      if (!match || !current) return;
      session(OPENED, JSON.stringify({article: match[1], search: current}));
      post("click", {search_id: current, article: match[1]}).catch(function () { /* not logged */ });
    });
  }

  function start() {
    healthy().then(function (health) {  // null when the server went away: the site works as without it
      if (!health || !health.ok) return;
      if (health.feedback) feedback();
      if (health.search) searchLog();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
