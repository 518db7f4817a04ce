/* proctorhub admin: progressive enhancement only. Every page works without this file.
   Keyboard: j/k next/previous, 1-4 (or p, v, s, n) a decision, Ctrl+Enter save and next,
   / search, u back to the queue, c claim, x select a queue row, o or Enter open it, ? help. */
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "textarea" || tag === "select" || target.isContentEditable ||
      (tag === "input" && !/^(radio|checkbox|button|submit)$/i.test(target.type));
  }

  function go(selector) {
    var link = document.querySelector(selector);
    if (link && link.href) { window.location.assign(link.href); return true; }
    return false;
  }

  // Times: the server writes UTC (named); where JavaScript runs, the viewer's local time is added.
  function localTimes() {
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
    } catch (e) { return; }
    document.querySelectorAll("time.utc[datetime]").forEach(function (node) {
      var when = new Date(node.getAttribute("datetime"));
      if (isNaN(when.getTime()) || node.nextElementSibling && node.nextElementSibling.classList.contains("time-local")) { return; }
      if (node.getAttribute("data-local") === "title") { node.title = "Your time: " + fmt.format(when); return; }
      var local = document.createElement("span");
      local.className = "time-local";
      local.textContent = " (" + fmt.format(when) + ")";
      node.insertAdjacentElement("afterend", local);
    });
  }

  // The help dialog (?), opened and closed by keyboard or its button.
  function help() {
    var dialog = document.getElementById("kbd-help");
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
  }

  // -- the queue: a current row moved by j/k, opened by o/Enter, selected by x ----------------------
  function queueRows() { return Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr")); }
  var current = -1;
  function setCurrent(index) {
    var rows = queueRows();
    if (!rows.length) { return; }
    index = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row) { row.classList.remove("current"); });
    rows[index].classList.add("current");
    var link = rows[index].querySelector("a.open");
    if (link) { link.focus({ preventScroll: true }); }
    rows[index].scrollIntoView({ block: "nearest" });
    current = index;
  }

  function queueKeys(event) {
    var rows = queueRows();
    if (!rows.length) { return false; }
    if (current < 0) {
      current = rows.findIndex(function (row) { return row.contains(document.activeElement); });
    }
    switch (event.key) {
      case "j": setCurrent(current + 1); return true;
      case "k": setCurrent(current < 0 ? 0 : current - 1); return true;
      case "o": case "Enter":
        if (current >= 0 && event.key === "o") { rows[current].querySelector("a.open").click(); return true; }
        return false;
      case "x":
        if (current >= 0) { var box = rows[current].querySelector("input[type=checkbox]"); if (box) { box.click(); } }
        return true;
      default: return false;
    }
  }

  // -- a review: decisions by number or letter, Ctrl+Enter saves and goes to the next --------------
  var DECISION_KEYS = { "1": "passed", "2": "violation", "3": "suspicious", "4": "not_reviewed",
                        "p": "passed", "v": "violation", "s": "suspicious", "n": "not_reviewed" };

  function reviewKeys(event) {
    var form = document.getElementById("second-review");
    switch (event.key) {
      case "j": return go("a[rel=next].review-step");
      case "k": return go("a[rel=prev].review-step");
      case "u": return go("a.back-to-queue");
      case "c": var claim = document.querySelector("form.claim button"); if (claim) { claim.click(); return true; } return false;
      default: break;
    }
    if (form && Object.prototype.hasOwnProperty.call(DECISION_KEYS, event.key)) {
      var radio = form.querySelector("input[name=status][value=" + DECISION_KEYS[event.key] + "]");
      if (radio) {
        radio.checked = true;
        radio.dispatchEvent(new Event("change", { bubbles: true }));
        var note = form.querySelector("textarea[name=note]");
        if (note) { note.focus(); }
        return true;
      }
    }
    return false;
  }

  function saveAndNext(form) {
    var button = form.querySelector("button[name=then][value=next]") || form.querySelector("button[type=submit]");
    if (typeof form.requestSubmit === "function") { form.requestSubmit(button); } else { button.click(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey) { return; }
    var target = event.target;
    var decision = document.getElementById("second-review");
    // Ctrl+Enter (or Cmd+Enter) anywhere in the decision form: save and go to the next review.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && decision && decision.contains(target)) {
      event.preventDefault();
      saveAndNext(decision);
      return;
    }
    if (event.ctrlKey || event.metaKey) { return; }
    if (event.key === "Escape" && typing(target)) { target.blur(); return; }
    if (typing(target)) { return; }
    if (event.key === "?") { event.preventDefault(); help(); return; }
    if (event.key === "/") {
      var search = document.querySelector("input[type=search]");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    var handled = document.querySelector("table.queue") ? queueKeys(event) : reviewKeys(event);
    if (handled) { event.preventDefault(); }
  });

  // -- the timeline: a mark selects its incident and keeps the timeline in view ---------------------
  function timeline() {
    document.querySelectorAll("svg.timeline a[href^='#incident-']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var id = link.getAttribute("href").slice(1);
        var row = document.getElementById(id);
        if (!row) { return; }
        event.preventDefault();
        document.querySelectorAll("tr.incident.selected").forEach(function (r) { r.classList.remove("selected"); });
        row.classList.add("selected");
        var box = row.closest(".incident-list");
        if (box) { box.scrollTop = row.offsetTop - box.clientHeight / 3; }
        if (window.history && history.replaceState) { history.replaceState(null, "", "#" + id); }
      });
    });
  }

  // -- bulk: one box selects every row ------------------------------------------------------------
  function selectAll() {
    var all = document.getElementById("select-all");
    if (!all) { return; }
    all.hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll("table.queue tbody input[name=ids]").forEach(function (box) { box.checked = all.checked; });
    });
  }

  function ready() {
    localTimes();
    timeline();
    selectAll();
    document.querySelectorAll("[data-js-only]").forEach(function (node) { node.hidden = false; });
    var close = document.getElementById("kbd-help-close");
    if (close) { close.addEventListener("click", help); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
}());
