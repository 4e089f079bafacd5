/* Agent workspace: session tabs, drafts in sessionStorage, quick replies, keyboard shortcuts,
   live-update bookkeeping for the agent socket. Plain JS on top of htmx; no build step.
   Loaded on every CRM page; the workspace part runs only where #workspace exists. */
(function () {
  "use strict";
  var workspace = document.getElementById("workspace");
  var announcer = document.getElementById("live-announcer");
  // The newest message id this page has seen; only the workspace resumes from it.
  var lastId = workspace ? parseInt(workspace.dataset.lastId || "0", 10) : null;

  // 422 carries a form with its errors: swap it like a success.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
  ];

  // Reconnects resume after the newest message this page has seen.
  htmx.createWebSocket = function (url) {
    var full = lastId === null ? url : url + (url.indexOf("?") >= 0 ? "&" : "?") + "last_id=" + lastId;
    var socket = new WebSocket(full, []);
    socket.binaryType = htmx.config.wsBinaryType;
    return socket;
  };

  function announce(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-toggle-panel]");
    if (toggle) {
      var target = document.getElementById(toggle.dataset.togglePanel);
      target.hidden = !target.hidden;
      toggle.setAttribute("aria-expanded", target.hidden ? "false" : "true");
    }
  });

  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-select-all]");
    if (!all) return;
    all.form.querySelectorAll('input[type=checkbox][name="' + all.dataset.selectAll + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });

  // Waiting times and SLA timers keep counting between server renders.
  function shortDuration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + "s";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m";
    if (seconds < 86400) {
      var minutes = Math.floor((seconds % 3600) / 60);
      return Math.floor(seconds / 3600) + "h " + (minutes < 10 ? "0" : "") + minutes + "m";
    }
    return Math.floor(seconds / 86400) + "d";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = shortDuration((now - Date.parse(el.dataset.since)) / 1000);
    });
    document.querySelectorAll(".sla-timer[data-due]").forEach(function (el) {
      var left = (Date.parse(el.dataset.due) - now) / 1000;
      var state = left <= 0 ? "breached" : left <= 3600 ? "warning" : "ok";
      el.classList.remove("sla-ok", "sla-warning", "sla-breached");
      el.classList.add("sla-" + state);
      el.querySelector(".sla-label").textContent =
        left <= 0 ? "Breached " + shortDuration(-left) + " ago" : shortDuration(left) + " left";
    });
  }
  window.setInterval(tick, 15000);

  if (!workspace) return;

  var MAX = parseInt(workspace.dataset.maxSessions || "10", 10);
  var SESSION_URL = workspace.dataset.sessionUrl; // ".../conversations/0/"
  var store = window.sessionStorage;
  var tabs = document.getElementById("session-tabs");
  var panels = document.getElementById("session-panels");

  function sessionUrl(id, suffix) { return SESSION_URL.replace(/0\/$/, id + "/" + (suffix || "")); }

  // --- Sessions as tabs -------------------------------------------------------
  function openIds() {
    return Array.prototype.map.call(tabs.querySelectorAll("[data-session-tab]"), function (el) {
      return { id: el.dataset.sessionTab, label: el.querySelector("[role=tab]").textContent };
    });
  }
  function remember() {
    store.setItem("ws-sessions", JSON.stringify(openIds()));
    var active = tabs.querySelector("[role=tab][aria-selected=true]");
    store.setItem("ws-active", active ? active.dataset.session : "home");
  }
  function activeSession() {
    var active = tabs.querySelector("[role=tab][aria-selected=true]");
    return active ? active.dataset.session : "home";
  }

  function activate(id) {
    var found = false;
    tabs.querySelectorAll("[role=tab]").forEach(function (tab) {
      var on = tab.dataset.session === String(id);
      found = found || on;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
    });
    if (!found) return activate("home");
    panels.querySelectorAll("[role=tabpanel]").forEach(function (panel) {
      panel.hidden = panel.id !== "panel-" + id;
    });
    document.querySelectorAll(".worklist a[aria-current]").forEach(function (a) { a.removeAttribute("aria-current"); });
    if (id !== "home") {
      var link = document.getElementById("work-" + id);
      if (link) link.setAttribute("aria-current", "true");
      markRead(id);
      scrollTranscript(id);
    }
    remember();
  }

  function markRead(id) {
    var badge = document.getElementById("unread-" + id);
    if (badge) { badge.textContent = "0"; badge.hidden = true; }
    htmx.ajax("POST", sessionUrl(id, "read/"), { swap: "none", source: workspace });
  }

  function openSession(id, label, focus) {
    id = String(id);
    if (!document.getElementById("panel-" + id)) {
      if (openIds().length >= MAX) {
        announce("You can have " + MAX + " sessions open. Close one first.");
        return;
      }
      var wrap = document.getElementById("session-tab-template").content.firstElementChild.cloneNode(true);
      wrap.dataset.sessionTab = id;
      var tab = wrap.querySelector("[role=tab]");
      tab.id = "tab-" + id;
      tab.dataset.session = id;
      tab.setAttribute("aria-controls", "panel-" + id);
      tab.textContent = label || ("#" + id);
      var close = wrap.querySelector(".tab-close");
      close.dataset.closeSession = id;
      close.setAttribute("aria-label", "Close session with " + tab.textContent);
      tabs.appendChild(wrap);
      var panel = document.createElement("div");
      panel.id = "panel-" + id;
      panel.className = "session-panel";
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", "tab-" + id);
      panel.setAttribute("hx-get", sessionUrl(id));
      panel.setAttribute("hx-trigger", "load");
      panel.hidden = true;
      panels.appendChild(panel);
      htmx.process(panel);
    }
    activate(id);
    if (focus) {
      var tabButton = document.getElementById("tab-" + id);
      if (tabButton) tabButton.focus();
    }
  }

  function closeSession(id) {
    id = String(id);
    var wrap = tabs.querySelector('[data-session-tab="' + id + '"]');
    var panel = document.getElementById("panel-" + id);
    if (wrap) wrap.remove();
    if (panel) panel.remove();
    store.removeItem("draft-" + id);
    activate("home");
  }

  tabs.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-session]");
    if (close) { closeSession(close.dataset.closeSession); return; }
    var tab = event.target.closest("[role=tab]");
    if (tab) activate(tab.dataset.session);
  });
  tabs.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    var all = Array.prototype.slice.call(tabs.querySelectorAll("[role=tab]"));
    var index = all.indexOf(document.activeElement);
    if (index < 0) return;
    var next = all[(index + (event.key === "ArrowRight" ? 1 : all.length - 1)) % all.length];
    activate(next.dataset.session);
    next.focus();
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-open-session]");
    if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
      event.preventDefault();
      openSession(link.dataset.openSession, link.dataset.label, false);
    }
  });

  // --- Drafts ------------------------------------------------------------------
  function restoreDrafts(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("textarea[data-draft-key]").forEach(function (area) {
      var draft = store.getItem(area.dataset.draftKey);
      if (draft && !area.value) area.value = draft;
    });
  }
  document.addEventListener("input", function (event) {
    var area = event.target;
    if (area.matches && area.matches("textarea[data-draft-key]")) {
      if (area.value) store.setItem(area.dataset.draftKey, area.value); else store.removeItem(area.dataset.draftKey);
      quickReplies(area);
    }
  });

  // --- Composer: Enter sends, quick replies -----------------------------------
  var qrTimer = null;
  function qrBox(area) { return document.getElementById("quick-replies-" + area.closest("form").dataset.conversation); }
  function quickReplies(area) {
    var box = qrBox(area);
    var value = area.value;
    if (value.charAt(0) !== "/" || value.indexOf("\n") >= 0) { box.hidden = true; return; }
    window.clearTimeout(qrTimer);
    qrTimer = window.setTimeout(function () {
      var url = area.closest("form").dataset.quickRepliesUrl + "?q=" + encodeURIComponent(value.slice(1));
      htmx.ajax("GET", url, { target: box, swap: "innerHTML" }).then(function () { box.hidden = false; });
    }, 120);
  }
  function qrMove(box, step) {
    var options = Array.prototype.slice.call(box.querySelectorAll("[role=option][data-text]"));
    if (!options.length) return;
    var index = options.findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
    options.forEach(function (o) { o.setAttribute("aria-selected", "false"); });
    var next = options[(index + step + options.length) % options.length];
    next.setAttribute("aria-selected", "true");
    next.scrollIntoView({ block: "nearest" });
  }
  function qrPick(area, option) {
    area.value = option.dataset.text;
    store.setItem(area.dataset.draftKey, area.value);
    qrBox(area).hidden = true;
    area.focus();
    // Leave unfilled {placeholders} selected for the agent to type over.
    var match = /\{\w+\}/.exec(area.value);
    if (match) area.setSelectionRange(match.index, match.index + match[0].length);
  }
  document.addEventListener("click", function (event) {
    var option = event.target.closest(".qr-list [role=option][data-text]");
    if (option) {
      var area = option.closest("form").querySelector("textarea[name=body]");
      qrPick(area, option);
    }
  });

  document.addEventListener("keydown", function (event) {
    var area = event.target;
    if (area.matches && area.matches(".composer textarea[name=body]")) {
      var box = qrBox(area);
      if (!box.hidden) {
        if (event.key === "ArrowDown" || event.key === "ArrowUp") { event.preventDefault(); qrMove(box, event.key === "ArrowDown" ? 1 : -1); return; }
        if (event.key === "Escape") { box.hidden = true; return; }
        if (event.key === "Enter" || event.key === "Tab") {
          var chosen = box.querySelector("[role=option][aria-selected=true][data-text]");
          if (chosen) { event.preventDefault(); qrPick(area, chosen); return; }
        }
      }
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (area.value.trim()) area.closest("form").requestSubmit();
        return;
      }
    }
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    var key = event.key.toLowerCase();
    if (/^[0-9]$/.test(key)) {
      event.preventDefault();
      if (key === "0") { activate("home"); return; }
      var open = openIds()[parseInt(key, 10) - 1];
      if (open) openSession(open.id, open.label, true);
      return;
    }
    var current = activeSession();
    if (current === "home") return;
    var panel = document.getElementById("panel-" + current);
    if (key === "w") { event.preventDefault(); closeSession(current); }
    if (key === "n") {
      event.preventDefault();
      var toggle = panel.querySelector("input[name=internal]");
      if (toggle) { toggle.checked = !toggle.checked; announce(toggle.checked ? "Internal note on" : "Internal note off"); }
    }
    if (key === "e") {
      event.preventDefault();
      var wrapUp = panel.querySelector("details.wrap-up");
      if (wrapUp) { wrapUp.open = true; var first = wrapUp.querySelector("input, textarea"); if (first) first.focus(); }
    }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form.composer") || !event.detail.successful) return;
    var area = form.querySelector("textarea[name=body]");
    area.value = "";
    store.removeItem(area.dataset.draftKey);
    var error = form.querySelector(".form-error");
    if (error) error.textContent = "";
    var internal = form.querySelector("input[name=internal]");
    if (internal) internal.checked = false;
    area.focus();
  });

  // --- Live updates -----------------------------------------------------------
  function scrollTranscript(id) {
    var transcript = document.getElementById("transcript-" + id);
    if (transcript) transcript.scrollTop = transcript.scrollHeight;
  }

  // The same message can arrive from the socket and as the answer to our own post: keep one.
  document.body.addEventListener("htmx:oobBeforeSwap", function (event) {
    var fragment = event.detail.fragment;
    var item = fragment && fragment.querySelector && fragment.querySelector("[data-message-id]");
    if (!item) return;
    var id = parseInt(item.dataset.messageId, 10);
    if (id > lastId) lastId = id;
    if (document.getElementById("message-" + id)) event.detail.shouldSwap = false;
  });
  document.body.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id && target.id.indexOf("transcript-") === 0) {
      target.scrollTop = target.scrollHeight;
    }
  });

  workspace.addEventListener("htmx:wsBeforeMessage", function (event) {
    var template = document.createElement("template");
    template.innerHTML = event.detail.message;
    var item = template.content.querySelector("[data-message-id]");
    if (!item) return;
    var id = parseInt(item.dataset.messageId, 10);
    if (id > lastId) lastId = id;
    if (document.getElementById("message-" + id)) { event.preventDefault(); return; }
    if (item.dataset.direction !== "inbound") return;
    var conversation = item.dataset.conversation;
    htmx.trigger(document.body, "customer-message", { conversation: conversation });
    // A conversation that is not listed yet (newly assigned): reload My work.
    if (!document.getElementById("work-" + conversation)) htmx.trigger(document.body, "worklist-refresh");
    var sender = item.querySelector(".sender");
    if (activeSession() === conversation && !document.hidden) {
      markRead(conversation);
    } else {
      var badge = document.getElementById("unread-" + conversation);
      if (badge) { badge.textContent = String(parseInt(badge.textContent || "0", 10) + 1); badge.hidden = false; }
    }
    var work = document.getElementById("work-" + conversation);
    var name = work ? work.dataset.label : (sender ? sender.textContent : "customer");
    announce("New message from " + name);
  });

  document.body.addEventListener("htmx:load", function (event) {
    restoreDrafts(event.detail.elt);
    if (event.detail.elt.id === "worklist") {
      var current = document.getElementById("work-" + activeSession());
      if (current) current.setAttribute("aria-current", "true");
    }
    var elt = event.detail.elt;
    var session = elt.matches && elt.matches(".session") ? elt : elt.querySelector && elt.querySelector(".session");
    if (session) scrollTranscript(session.dataset.conversation);
  });

  // Another app's action (an accepted offer, a pick) asks for a conversation to open as a tab.
  document.body.addEventListener("session-open", function (event) {
    if (event.detail && event.detail.id) openSession(event.detail.id, event.detail.label, true);
  });

  // A nudge from the socket (#live-refresh): re-fetch the lists it names.
  document.body.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "live-refresh" || !target.firstElementChild) return;
    target.firstElementChild.dataset.events.split(" ").forEach(function (name) { htmx.trigger(document.body, name); });
  });

  // Assist cards and other helpers insert a link or passage into the session's composer.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert]");
    if (!button) return;
    var session = button.closest(".session");
    var area = session && session.querySelector(".composer textarea[name=body]");
    if (!area) return;
    var text = button.dataset.insert;
    area.value = area.value ? area.value.replace(/\s*$/, "") + "\n" + text : text;
    store.setItem(area.dataset.draftKey, area.value);
    area.focus();
    announce("Inserted into the reply");
  });

  // --- Start: the server-rendered session (if any), then what this tab had open ---
  var initial = activeSession();
  var saved = [];
  try { saved = JSON.parse(store.getItem("ws-sessions") || "[]"); } catch (e) { saved = []; }
  var savedActive = store.getItem("ws-active");
  saved.forEach(function (s) {
    if (!document.getElementById("panel-" + s.id) && openIds().length < MAX) openSession(s.id, s.label, false);
  });
  restoreDrafts(document);
  if (initial !== "home") activate(initial);
  else if (savedActive && document.getElementById("panel-" + savedActive)) activate(savedActive);
  else activate("home");
})();
