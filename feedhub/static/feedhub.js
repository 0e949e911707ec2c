// feedhub's one script: copy buttons beside feed URLs, and "poll now" with progress and
// result shown in place. Every page works without it: the poll-now forms post and
// reload, and the URLs can be selected and copied by hand. It inserts only markup the
// server rendered (a source's table row) and text; never data from a feed as HTML.
(function () {
  "use strict";

  // Copy buttons ---------------------------------------------------------------------
  function addCopyButton(input) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button quiet";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy the " + (input.getAttribute("aria-label") || "URL"));
    button.addEventListener("click", async function () {
      let copied = false;
      try {
        await navigator.clipboard.writeText(input.value);
        copied = true;
      } catch (error) {
        // No clipboard API (a page served over plain http): select and copy the old way.
        input.focus();
        input.select();
        copied = document.execCommand && document.execCommand("copy");
      }
      button.textContent = copied ? "Copied" : "Press Ctrl+C";
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    });
    input.insertAdjacentElement("afterend", button);
  }

  // Poll now ---------------------------------------------------------------------------
  function announce(text) {
    const region = document.getElementById("announce");
    if (region) region.textContent = text;
  }

  // Polls the source of a row's poll form; resolves when the row shows the result.
  async function pollRow(form) {
    const row = form.closest("tr");
    const status = row.querySelector(".poll-status");
    const buttons = row.querySelectorAll("button");
    const started = performance.now();
    buttons.forEach(function (b) { b.disabled = true; });
    row.classList.add("polling");
    row.setAttribute("aria-busy", "true");
    status.textContent = "Polling…";
    const timer = setInterval(function () {
      status.textContent = "Polling… " + ((performance.now() - started) / 1000).toFixed(1) + " s";
    }, 200);
    try {
      const response = await fetch(form.dataset.pollUrl, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json" },
        credentials: "same-origin",
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error ? answer.error.message : "HTTP " + response.status);
      const template = document.createElement("template");
      template.innerHTML = answer.row.trim();
      const fresh = template.content.firstElementChild;
      fresh.classList.add(answer.poll.healthy ? "just-polled" : "just-failed");
      row.replaceWith(fresh);
      fresh.querySelector(".poll-status").textContent = answer.summary;
      announce(answer.summary);
      wireRow(fresh);
      return answer;
    } catch (error) {
      status.textContent = "Could not poll: " + error.message;
      announce(status.textContent);
      return null;
    } finally {
      clearInterval(timer);
      row.classList.remove("polling");
      row.removeAttribute("aria-busy");
      buttons.forEach(function (b) { b.disabled = false; });
    }
  }

  function wireRow(row) {
    const form = row.querySelector("form[data-poll-url]");
    if (!form) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      pollRow(form);
    });
  }

  // Polls the given rows one after the other, saying how far it got.
  async function pollRows(rows, status) {
    let done = 0;
    let failed = 0;
    for (const row of rows) {
      const form = document.getElementById(row.id).querySelector("form[data-poll-url]");
      if (!form) continue;
      if (status) status.textContent = "Polling " + (done + 1) + " of " + rows.length + "…";
      const answer = await pollRow(form);
      done += 1;
      if (!answer || !answer.poll.healthy) failed += 1;
    }
    const text = "Polled " + done + " source" + (done === 1 ? "" : "s") + (failed ? ", " + failed + " failed." : ", all healthy.");
    if (status) status.textContent = text;
    announce(text);
  }

  function wireAccount(account) {
    const button = account.querySelector("[data-poll-all]");
    if (!button) return;
    const status = document.createElement("span");
    status.className = "poll-all-status";
    status.setAttribute("aria-live", "polite");
    button.insertAdjacentElement("afterend", status);
    button.hidden = false;
    button.addEventListener("click", async function () {
      button.disabled = true;
      await pollRows(Array.from(account.querySelectorAll("tr.source")), status);
      button.disabled = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const region = document.createElement("div");
    region.id = "announce";
    region.className = "visually-hidden";
    region.setAttribute("aria-live", "polite");
    document.body.appendChild(region);
    document.querySelectorAll(".copy input").forEach(addCopyButton);
    document.querySelectorAll("tr.source").forEach(wireRow);
    document.querySelectorAll("[data-account]").forEach(wireAccount);
    // Sources just added or given new tokens are polled at once, in view.
    const fresh = Array.from(document.querySelectorAll("tr[data-autopoll]"));
    if (fresh.length) pollRows(fresh, null);
  });
})();
