// The review queue: actions without reloading, keyboard shortcuts, and a re-login that keeps
// the pending action. Without JavaScript every form still posts normally (and redirects back).
(function () {
  "use strict";
  var pending = null; // {url, body, row}: the action refused with 401, sent again after sign-in
  var current = null; // the row the keys act on

  function $(sel, root) { return (root || document).querySelector(sel); }
  function openRows() {
    return Array.prototype.filter.call(
      document.querySelectorAll("table.queue tbody tr[data-customer]"),
      function (r) { return r.querySelector("form.confirm"); });
  }
  function say(text, kind) {
    var box = $("#queue-message");
    if (!box) return;
    box.textContent = text || "";
    box.className = "message " + (kind || "");
    box.hidden = !text;
  }
  function focusRow(row) {
    if (current) current.classList.remove("current");
    current = row || null;
    if (current) {
      current.classList.add("current");
      current.scrollIntoView({ block: "nearest" });
    }
  }
  function rowAfter(row) {
    var rows = openRows();
    var all = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr"));
    var at = all.indexOf(row);
    for (var i = 0; i < rows.length; i++) if (all.indexOf(rows[i]) > at) return rows[i];
    return rows[0] || null;
  }
  function fragment(html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }
  function errorText(html, status) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var alert = doc.querySelector("[role=alert]");
    var text = alert ? alert.textContent.trim() : "";
    return "Not saved (" + status + "): " + (text || "the server refused the request") + ".";
  }
  // The KPI and progress panels are fetched again after each action, one refresh at a time;
  // actions during a refresh ask for one more, so the last state always arrives.
  var refreshing = false, again = false;
  function refreshPanels() {
    if (!window.htmx) return;
    if (refreshing) { again = true; return; }
    refreshing = true;
    document.body.dataset.refreshing = "1"; // tests wait for the panels to settle
    var panels = ["#kpi", "#progress"].filter(function (sel) { return $(sel); });
    var chain = Promise.resolve();
    panels.forEach(function (sel) {
      var url = sel === "#kpi" ? "/fragments/kpi" : "/fragments/progress";
      chain = chain.then(function () {
        return window.htmx.ajax("GET", url, { target: sel, swap: "outerHTML" });
      });
    });
    chain.finally(function () {
      refreshing = false;
      if (again) { again = false; refreshPanels(); return; }
      delete document.body.dataset.refreshing;
    });
  }

  function apply(resp, html, row) {
    var undone = resp.headers.get("X-Undone-Customer");
    if (resp.status === 204) { say("Nothing left to undo.", "info"); return; }
    var made = fragment(html);
    if (undone !== null) {
      var id = decodeURIComponent(undone);
      var old = Array.prototype.find.call(
        document.querySelectorAll("table.queue tbody tr[data-customer]"),
        function (r) { return r.dataset.customer === id; });
      if (old) old.replaceWith(made);
      else $("table.queue tbody").prepend(made);
      say("Undone: " + id + " is back in the queue.", "info");
      focusRow(made);
    } else if (row) {
      var next = rowAfter(row);
      row.replaceWith(made);
      say("");
      focusRow(next === row ? null : next);
    }
    if (resp.headers.get("HX-Trigger")) refreshPanels();
  }

  function post(url, body, row) {
    return fetch(url, {
      method: "POST",
      body: body,
      headers: { "HX-Request": "true" },
      credentials: "same-origin",
    }).then(function (resp) {
      return resp.text().then(function (html) {
        if (resp.status === 401) {
          pending = { url: url, body: body, row: row };
          say("Your session has ended: sign in again and the action is sent.", "error");
          askLogin();
        } else if (resp.status >= 400) {
          say(errorText(html, resp.status), "error");
        } else {
          apply(resp, html, row);
        }
      });
    }, function () {
      say("Not saved: the server cannot be reached. Try again.", "error");
    });
  }

  function askLogin() {
    var dlg = $("#relogin");
    if (!dlg) return;
    $("[data-testid=relogin-error]", dlg).hidden = true;
    if (!dlg.open) dlg.showModal();
    $("input[name=username]", dlg).focus();
  }

  function relogin(form) {
    var body = new URLSearchParams({
      username: form.username.value,
      password: form.password.value,
      next: "/review",
    });
    fetch("/login", { method: "POST", body: body, credentials: "same-origin" }).then(
      function (resp) {
        return resp.text().then(function (html) {
          var back = resp.ok && !new URL(resp.url).pathname.startsWith("/login");
          if (!back) {
            var err = $("[data-testid=relogin-error]", form.closest("dialog"));
            var doc = new DOMParser().parseFromString(html, "text/html");
            var alert = doc.querySelector("[role=alert]");
            err.textContent = alert ? alert.textContent.trim() : "Sign-in failed (" + resp.status + ").";
            err.hidden = false;
            return;
          }
          form.password.value = "";
          form.closest("dialog").close();
          var todo = pending;
          pending = null;
          say("Signed in again; sending your action.", "info");
          if (todo) post(todo.url, todo.body, todo.row);
        });
      });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.closest("#relogin")) { e.preventDefault(); relogin(form); return; }
    if (!form.closest("table.queue") && !form.classList.contains("undo")) return;
    e.preventDefault();
    var body = new URLSearchParams(new FormData(form, e.submitter || null));
    post(form.getAttribute("action"), body, form.closest("tr"));
  });

  document.addEventListener("click", function (e) {
    if (e.target.closest("#relogin .cancel")) {
      $("#relogin").close();
      say("Not saved: you cancelled the sign-in. Reload the page to continue.", "error");
    }
    var row = e.target.closest("table.queue tbody tr[data-customer]");
    if (row && row.querySelector("form.confirm")) focusRow(row);
  });

  function press(row, selector) {
    var el = row && row.querySelector(selector);
    if (el) el.click();
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t.closest && t.closest("dialog")) return;
    if (t.matches("select") && e.key === "Enter" && t.form && t.form.classList.contains("correct")) {
      e.preventDefault();
      t.form.requestSubmit();
      return;
    }
    if (t.matches("input, select, textarea")) {
      if (e.key === "Escape") t.blur();
      return;
    }
    var rows = openRows();
    var row = current && document.contains(current) && rows.indexOf(current) >= 0 ? current : rows[0];
    var handled = true;
    switch (e.key) {
      case "c": press(row, "form.confirm button"); break;
      case "s": press(row, "form.mark button.skip"); break;
      case "u": press(row, "form.mark button.unsure"); break;
      case "x": if (row) { focusRow(row); row.querySelector("form.correct select").focus(); } break;
      case "z": press(document, "form.undo button"); break;
      case "j": focusRow(rows[Math.min(rows.indexOf(row) + 1, rows.length - 1)]); break;
      case "k": focusRow(rows[Math.max(rows.indexOf(row) - 1, 0)]); break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () { focusRow(openRows()[0]); });
})();
