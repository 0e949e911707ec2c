/* feedhub widget: <script src="https://HOST/embed/CHANNEL.js?token=…&count=5" async></script>
 *
 * Draws a channel's latest activities right after its own <script> tag, in a shadow
 * root so the host page's styles and ours stay apart. No dependencies. Every piece of
 * feed data goes in as a text node or an attribute value, never as HTML.
 * Options come from the script's own URL: count, layout (list|grid|compact),
 * theme (auto|light|dark), ratings (show|hide), kind, and the channel's token.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  var source = new URL(script.src, document.baseURI);
  var match = /^(.*)\/embed\/([A-Za-z0-9_-]+)\.js$/.exec(source.pathname);
  if (!match) {
    return;
  }
  var base = source.origin + match[1];
  var name = match[2];
  var options = source.searchParams;
  var layout = pick(options.get("layout"), ["list", "grid", "compact"]);
  var theme = pick(options.get("theme"), ["auto", "light", "dark"]);

  var host = document.createElement("div");
  host.className = "feedhub-widget";
  host.setAttribute("data-feedhub-channel", name);
  script.parentNode.insertBefore(host, script.nextSibling);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

  var style = document.createElement("link");
  style.rel = "stylesheet";
  style.href = base + "/static/embed.css";
  root.appendChild(style);

  var box = element("div", "fh layout-" + layout + " theme-" + theme);
  box.setAttribute("aria-busy", "true");
  root.appendChild(box);

  var page = base + "/c/" + encodeURIComponent(name) + pageQuery(options);
  fetch(base + "/embed/" + encodeURIComponent(name) + ".json" + source.search, {
    credentials: "omit",
    referrerPolicy: "no-referrer"
  })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    })
    .then(draw, function () {
      fallback();
    });

  function draw(data) {
    box.removeAttribute("aria-busy");
    var head = element("p", "fh-head");
    head.appendChild(link(data.page_url || page, data.title || name));
    box.appendChild(head);
    var items = data.items || [];
    if (!items.length) {
      box.appendChild(element("p", "fh-empty", "Nothing has happened yet."));
      return;
    }
    var list = element("ol", "fh-items");
    items.forEach(function (item) {
      list.appendChild(drawItem(item));
    });
    box.appendChild(list);
  }

  function drawItem(item) {
    var entry = element("li", "fh-item");
    var target = item.url ? link(item.url) : element("span");
    target.classList.add("fh-link");
    if (item.image) {
      var art = document.createElement("img");
      art.className = "fh-art";
      art.src = item.image;
      art.alt = item.title || "";
      art.loading = "lazy";
      art.referrerPolicy = "no-referrer";
      target.appendChild(art);
    } else {
      target.appendChild(element("span", "fh-art fh-none"));
    }
    var words = element("span", "fh-text");
    words.appendChild(element("span", "fh-headline", item.text));
    if (item.stars) {
      var rated = element("span", "fh-stars", item.stars);
      rated.setAttribute("role", "img");
      rated.setAttribute("aria-label", item.rating + " out of 5");
      words.appendChild(rated);
    }
    var when = element("time", "fh-when", item.date);
    when.setAttribute("datetime", item.occurred_at);
    words.appendChild(when);
    target.appendChild(words);
    entry.appendChild(target);
    return entry;
  }

  function fallback() {
    box.removeAttribute("aria-busy");
    var note = element("p", "fh-head");
    note.appendChild(link(page, "See this channel on feedhub"));
    box.appendChild(note);
  }

  function element(tag, className, text) {
    var made = document.createElement(tag);
    if (className) {
      made.className = className;
    }
    if (text !== undefined && text !== null) {
      made.appendChild(document.createTextNode(String(text)));
    }
    return made;
  }

  function link(href, text) {
    var anchor = element("a", null, text);
    anchor.href = safeHref(href);
    anchor.target = "_blank";
    anchor.rel = "noopener noreferrer";
    return anchor;
  }

  function safeHref(href) {
    try {
      var url = new URL(href, base);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : page;
    } catch (error) {
      return page;
    }
  }

  function pick(value, allowed) {
    return allowed.indexOf(value) >= 0 ? value : allowed[0];
  }

  function pageQuery(params) {
    var kept = new URLSearchParams();
    ["token", "kind"].forEach(function (key) {
      if (params.get(key)) {
        kept.set(key, params.get(key));
      }
    });
    var text = kept.toString();
    return text ? "?" + text : "";
  }
})();
