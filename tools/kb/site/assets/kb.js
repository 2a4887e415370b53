// Knowledge-base page helpers: copy the article's short link, the header search box, and
// marking the query's words in an article opened from the search page.
(function () {
  function copyLink(button) {
    var box = button.closest(".kb-share");
    var field = box.querySelector(".kb-share__url");
    var done = box.querySelector(".kb-share__done");
    var url = button.getAttribute("data-url");
    function shown() { done.hidden = false; setTimeout(function () { done.hidden = true; }, 3000); }
    function fallback() {
      // Intranet sites are often plain http, where navigator.clipboard does not exist.
      field.focus(); field.select();
      try { document.execCommand("copy"); } catch (e) { /* the link stays selected */ }
      shown();
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(shown, fallback);
    } else {
      fallback();
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".kb-share__copy");
    if (button) copyLink(button);
  });
  // The header search box on every page: a plain form to the search page (the site's
  // own search, kb-search.js), placed in the theme's header when there is one.
  var root = new URL("../../", document.currentScript.src);
  function headerSearch() {
    if (document.querySelector(".kb-header-search")) return;
    var form = document.createElement("form");
    form.className = "kb-header-search";
    form.setAttribute("role", "search");
    form.setAttribute("aria-label", "全站搜索");
    form.method = "get";
    form.action = new URL(window.kbSite.searchPage, root).href;
    form.innerHTML = '<label class="kb-visually-hidden" for="kb-header-q">搜索知识库</label>' +
      '<input id="kb-header-q" name="q" type="search" autocomplete="off" placeholder="搜索现象或错误代码">' +
      '<button type="submit" aria-label="搜索">搜索</button>';
    var query = new URLSearchParams(location.search).get("q");
    if (query && document.querySelector("[data-kb-results]")) form.querySelector("input").value = query;
    form.querySelector("input").addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.target.value = ""; event.target.blur(); }
    });
    var header = document.querySelector(".md-header__inner");
    var before = header && header.querySelector(".md-header__source");
    if (header) header.insertBefore(form, before); else document.body.insertBefore(form, document.body.firstChild);
  }
  // Arriving from a search result (?h=words): mark the query's whole words in the article.
  function highlight() {
    var words = (new URLSearchParams(location.search).get("h") || "").split(/\s+/)
      .filter(function (w) { return Array.from(w).length > 1; });
    var article = document.querySelector("article");
    if (!words.length || !article) return;
    var pattern = new RegExp(words.map(function (w) {
      var escaped = w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      // A Latin word or code only as a whole word (500 is not in DOC-5001).
      return (/^[0-9a-z]/i.test(w) ? "(?<![0-9a-z])" : "") + escaped + (/[0-9a-z]$/i.test(w) ? "(?![0-9a-z])" : "");
    }).join("|"), "gi");
    var walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        return node.parentNode.closest("script, style, mark, .kb-share, .kb-escalation") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
      }
    });
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    nodes.forEach(function (node) {
      var text = node.nodeValue, m, cursor = 0, parts = [];
      pattern.lastIndex = 0;
      while ((m = pattern.exec(text)) !== null) {
        parts.push(document.createTextNode(text.slice(cursor, m.index)));
        var mark = document.createElement("mark");
        mark.className = "kb-highlight";
        mark.textContent = m[0];
        parts.push(mark);
        cursor = m.index + m[0].length;
      }
      if (!parts.length) return;
      parts.push(document.createTextNode(text.slice(cursor)));
      node.replaceWith.apply(node, parts);
    });
  }
  function ready() { headerSearch(); highlight(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
