// Knowledge-base page helpers: copy the article's short link, and the home page search box.
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
  // Home page search box: hand the words to the site search in the header.
  window.kbSearch = function (form) {
    var query = form.querySelector("input[name=q]").value;
    var toggle = document.querySelector("[data-md-toggle=search]");
    var input = document.querySelector("[data-md-component=search-query]");
    if (!toggle || !input) return true;
    toggle.checked = true;
    toggle.dispatchEvent(new Event("change"));
    input.value = query;
    input.focus();
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
    return false;
  };
})();
