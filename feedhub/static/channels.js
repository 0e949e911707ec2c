// The channels page: redraws a channel's widget preview and snippets as its options
// change. Without it the options form reloads the page with the same result. It only
// sets attribute and input values, never HTML.
(function () {
  "use strict";

  function widgetQuery(form) {
    const base = new URL(form.dataset.embed);
    const query = new URLSearchParams();
    const token = base.searchParams.get("token");
    if (token) query.set("token", token);
    const defaults = { count: "5", layout: "list", theme: "auto", ratings: "show", kind: "" };
    Object.keys(defaults).forEach(function (key) {
      const value = (form.elements[key].value || "").trim();
      if (value && value !== defaults[key]) query.set(key, value);
    });
    return query;
  }

  function withQuery(url, query) {
    const made = new URL(url);
    made.search = query.toString();
    return made.href;
  }

  function escapeAttribute(text) {
    return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function redraw(form) {
    const query = widgetQuery(form);
    const card = form.closest(".channel-card");
    const embed = withQuery(form.dataset.embed, query);
    const script = withQuery(form.dataset.script, query);
    const pageQuery = new URLSearchParams();
    ["token", "kind"].forEach(function (key) { if (query.get(key)) pageQuery.set(key, query.get(key)); });
    const page = withQuery(form.dataset.page, pageQuery);
    const title = escapeAttribute(form.dataset.title);
    const count = parseInt(query.get("count") || "5", 10);
    const layout = query.get("layout") || "list";
    const perItem = { list: 96, grid: 250, compact: 32 }[layout] || 96;
    const rows = layout === "grid" ? Math.floor((count + 2) / 3) : count;
    const fields = card.querySelectorAll(".widget-snippets input");
    fields[0].value = '<script src="' + escapeAttribute(script) + '" async></script><noscript><a href="' +
      escapeAttribute(page) + '">' + title + "</a></noscript>";
    fields[1].value = '<iframe src="' + escapeAttribute(embed) + '" title="' + title +
      '" loading="lazy" referrerpolicy="no-referrer" style="border:0;width:100%;max-width:420px;height:' +
      (72 + perItem * rows) + 'px"></iframe>';
    card.querySelector(".widget-preview").src = embed;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.widget-options").forEach(function (form) {
      form.addEventListener("input", function () { redraw(form); });
      form.addEventListener("change", function () { redraw(form); });
      form.addEventListener("submit", function (event) { event.preventDefault(); redraw(form); });
    });
  });
})();
