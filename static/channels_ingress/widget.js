/*
 * Contact center web chat widget. Embed with one tag:
 *   <script src="https://<server>/static/channels_ingress/widget.js" data-channel="<public key>" async></script>
 * Plain JavaScript, no build step. Talks to /ws/webchat/<public key>/ (see channels_ingress/consumers.py).
 */
(function () {
  "use strict";

  var script = document.currentScript ||
    document.querySelector('script[data-channel][src*="channels_ingress/widget.js"]');
  if (!script || window.__contactCenterWidget) { return; }
  window.__contactCenterWidget = true;

  var key = script.getAttribute("data-channel");
  // Authenticated chat: the page names a function returning (a Promise of) its RS256 JWT for the customer.
  var authCallbackName = script.getAttribute("data-auth-callback");
  var AUTH_TIMEOUT_MS = 10000;
  var src = new URL(script.src, window.location.href);
  var base = src.origin;
  var storeKey = "cc-webchat:" + key;
  var TYPING_SEND_MS = 3000;
  var TYPING_SHOW_MS = 5000;

  var state = {
    token: null, sessionToken: null, config: null, conversationId: null, lastId: 0, socket: null, open: false,
    retry: 0, outbox: [], prechat: null, authenticated: false, prechatSent: false, attachments: [], typingSentAt: 0,
    typingTimer: null, seen: {}
  };

  function load() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "{}"); } catch (e) { return {}; }
  }
  function save(patch) {
    var data = load();
    Object.keys(patch).forEach(function (k) { data[k] = patch[k]; });
    try { window.localStorage.setItem(storeKey, JSON.stringify(data)); } catch (e) { /* private mode */ }
  }
  function uid() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return "m" + Date.now().toString(16) + Math.random().toString(16).slice(2, 14);
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; }
      else if (name === "class") { node.className = attrs[name]; }
      else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  var css = el("link", { rel: "stylesheet", href: src.href.replace(/widget\.js(\?.*)?$/, "widget.css") });
  document.head.appendChild(css);

  // --- DOM -------------------------------------------------------------------
  var root = el("div", { class: "ccw-root ccw-bottom-right", "data-state": "closed" });
  var bubble = el("button", { type: "button", class: "ccw-bubble", "aria-label": "Open chat", "aria-expanded": "false" });
  bubble.innerHTML = '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
  var unread = el("span", { class: "ccw-unread", hidden: "hidden", "aria-hidden": "true" });
  bubble.appendChild(unread);

  var title = el("h2", { class: "ccw-title", id: "ccw-title", text: "Chat" });
  var subtitle = el("p", { class: "ccw-subtitle" });
  var endButton = el("button", { type: "button", class: "ccw-link ccw-end", text: "End chat", hidden: "hidden" });
  var closeButton = el("button", { type: "button", class: "ccw-icon", "aria-label": "Minimise chat", text: "\u2013" });
  var logo = el("img", { class: "ccw-logo", alt: "", hidden: "hidden" });
  var header = el("div", { class: "ccw-header" }, [
    logo, el("div", { class: "ccw-heading" }, [title, subtitle]), endButton, closeButton
  ]);

  var prechatForm = el("form", { class: "ccw-prechat", hidden: "hidden", novalidate: "novalidate" });
  var log = el("div", { class: "ccw-log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  var typing = el("div", { class: "ccw-typing", "aria-live": "polite" });
  var status = el("div", { class: "ccw-status", role: "status" });

  var input = el("textarea", { class: "ccw-input", rows: "2", "aria-label": "Message", placeholder: "Type your message…" });
  var fileInput = el("input", { type: "file", class: "ccw-file", "aria-label": "Attach a file" });
  var attachLabel = el("button", { type: "button", class: "ccw-attach", "aria-label": "Attach a file" });
  attachLabel.innerHTML = '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4L15.5 7.4"/></svg>';
  var sendButton = el("button", { type: "submit", class: "ccw-send", text: "Send" });
  var chips = el("div", { class: "ccw-chips" });
  var composer = el("form", { class: "ccw-composer", hidden: "hidden" }, [
    chips, el("div", { class: "ccw-row" }, [attachLabel, fileInput, input, sendButton])
  ]);

  var csatForm = el("form", { class: "ccw-csat", hidden: "hidden" });
  var csatLegend = el("legend", { text: "How would you rate this chat?" });
  var stars = el("div", { class: "ccw-stars" });
  [1, 2, 3, 4, 5].forEach(function (n) {
    var id = "ccw-rate-" + n;
    stars.appendChild(el("input", { type: "radio", name: "rating", value: String(n), id: id }));
    stars.appendChild(el("label", { for: id, text: String(n), title: n + " of 5" }));
  });
  var comment = el("textarea", { name: "comment", rows: "3", maxlength: "2000", "aria-label": "Comment (optional)", placeholder: "Anything we could do better? (optional)" });
  csatForm.appendChild(el("fieldset", {}, [csatLegend, stars]));
  csatForm.appendChild(comment);
  csatForm.appendChild(el("div", { class: "ccw-row" }, [
    el("button", { type: "submit", class: "ccw-send", text: "Send and end chat" }),
    el("button", { type: "button", class: "ccw-link ccw-cancel", text: "Back to chat" })
  ]));

  var thanks = el("div", { class: "ccw-thanks", hidden: "hidden" }, [
    el("p", { text: "Thank you! The chat has ended." }),
    el("button", { type: "button", class: "ccw-send ccw-restart", text: "Start a new chat" }),
    el("p", {}, [el("button", { type: "button", class: "ccw-link ccw-transcript", text: "Download the transcript" })])
  ]);

  var panel = el("div", { class: "ccw-panel", role: "dialog", "aria-labelledby": "ccw-title", hidden: "hidden" }, [
    header, el("div", { class: "ccw-body" }, [prechatForm, log, typing, thanks, csatForm]), status, composer
  ]);
  root.appendChild(panel);
  root.appendChild(bubble);

  function show(node, visible) { if (visible) { node.removeAttribute("hidden"); } else { node.setAttribute("hidden", "hidden"); } }
  function setStatus(text) { status.textContent = text || ""; }

  function view(name) {
    show(prechatForm, name === "prechat");
    show(log, name === "chat" || name === "csat");
    show(composer, name === "chat");
    show(csatForm, name === "csat");
    show(thanks, name === "thanks");
    show(endButton, name === "chat" && state.conversationId !== null);
    root.setAttribute("data-view", name);
  }

  // --- Configuration and pre-chat ------------------------------------------------
  function applyConfig(config) {
    state.config = config;
    title.textContent = config.title;
    subtitle.textContent = config.subtitle || "";
    if (config.logo_url) { logo.src = config.logo_url; show(logo, true); }
    root.style.setProperty("--ccw-primary", config.primary_colour);
    root.style.setProperty("--ccw-on-primary", config.text_colour);
    root.className = "ccw-root ccw-" + config.position;
    show(attachLabel, !!config.attachments);
    input.setAttribute("maxlength", String(config.max_message_chars));
    buildPrechat(config.prechat || []);
  }

  function buildPrechat(questions) {
    prechatForm.innerHTML = "";
    prechatForm.appendChild(el("p", { class: "ccw-greeting", text: state.config.greeting }));
    questions.forEach(function (q) {
      var id = "ccw-q-" + q.name;
      var label = el("label", { for: id, text: q.label + (q.required ? " *" : "") });
      var field;
      if (q.type === "multi_line") {
        field = el("textarea", { id: id, name: q.name, rows: "3" });
      } else if (q.type === "option_set") {
        field = el("select", { id: id, name: q.name }, [el("option", { value: "", text: "—" })]);
        (q.options || []).forEach(function (o) { field.appendChild(el("option", { value: o, text: o })); });
      } else if (q.type === "consent") {
        field = el("input", { id: id, name: q.name, type: "checkbox" });
      } else {
        field = el("input", { id: id, name: q.name, type: q.name === "email" ? "email" : "text", autocomplete: q.name === "email" ? "email" : (q.name === "name" ? "name" : "off") });
      }
      if (q.required) { field.setAttribute("required", "required"); }
      prechatForm.appendChild(el("div", { class: "ccw-field" + (q.type === "consent" ? " ccw-consent" : "") }, [label, field]));
    });
    prechatForm.appendChild(el("p", { class: "ccw-error", role: "alert" }));
    prechatForm.appendChild(el("button", { type: "submit", class: "ccw-send", text: "Start chat" }));
  }

  prechatForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var answers = {};
    var missing = [];
    (state.config.prechat || []).forEach(function (q) {
      var field = prechatForm.elements[q.name];
      var value = q.type === "consent" ? field.checked : field.value.trim();
      if (q.required && !value) { missing.push(q.label); }
      if (q.name === "email" && value && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) { missing.push("a valid email"); }
      answers[q.name] = value;
    });
    var error = prechatForm.querySelector(".ccw-error");
    if (missing.length) { error.textContent = "Please fill in " + missing.join(", ") + "."; return; }
    error.textContent = "";
    state.prechat = answers;
    state.prechatSent = false;
    view("chat");
    if (state.config.greeting) { addSystemLine(state.config.greeting); }
    if (answers.question) { sendMessage(answers.question, []); }
    input.focus();
  });

  // --- Transcript ------------------------------------------------------------
  function addSystemLine(text) {
    log.appendChild(el("div", { class: "ccw-system", text: text }));
    log.scrollTop = log.scrollHeight;
  }

  function renderMessage(message, node) {
    var mine = message.sender_kind === "customer";
    node = node || el("div", {});
    node.className = "ccw-msg " + (mine ? "ccw-msg--mine" : "ccw-msg--theirs");
    node.setAttribute("data-id", String(message.id));
    node.innerHTML = "";
    if (!mine) { node.appendChild(el("div", { class: "ccw-sender", text: message.sender_name || "Support" })); }
    if (message.body) { node.appendChild(el("div", { class: "ccw-text", text: message.body })); }
    (message.attachments || []).forEach(function (a) {
      node.appendChild(a.url
        ? el("a", { class: "ccw-file-link", href: base + a.url, target: "_blank", rel: "noopener", text: a.name })
        : el("span", { class: "ccw-file-link", text: a.name }));
    });
    if (mine) { node.appendChild(el("div", { class: "ccw-meta", text: message.delivery_status === "read" ? "Read" : "Sent" })); }
    return node;
  }

  function onMessage(message) {
    if (state.seen[message.id]) { return; }
    state.seen[message.id] = true;
    state.lastId = Math.max(state.lastId, message.id);
    state.conversationId = message.conversation_id;
    var pending = message.client_id ? log.querySelector('[data-client-id="' + message.client_id + '"]') : null;
    var existing = log.querySelector('[data-id="' + message.id + '"]') || pending;
    log.appendChild(renderMessage(message, existing));
    log.scrollTop = log.scrollHeight;
    if (message.sender_kind !== "customer") {
      typing.textContent = "";
      if (state.open && document.visibilityState === "visible") { send({ type: "read", last_id: message.id }); }
      else { show(unread, true); }
    }
    if (root.getAttribute("data-view") !== "csat") { view("chat"); }
  }

  // --- Socket ----------------------------------------------------------------
  function socketUrl() {
    var proto = base.indexOf("https:") === 0 ? "wss:" : "ws:";
    var url = proto + "//" + new URL(base).host + "/ws/webchat/" + encodeURIComponent(key) + "/?last_id=" + state.lastId;
    if (state.token) { url += "&token=" + encodeURIComponent(state.token); }
    return url;
  }

  function send(frame) {
    if (state.socket && state.socket.readyState === 1) { state.socket.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function connect() {
    var socket = new WebSocket(socketUrl());
    state.socket = socket;
    socket.onopen = function () { state.retry = 0; setStatus(""); };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    };
    socket.onclose = function (event) {
      if (state.socket !== socket) { return; }
      if (event.code === 4403 || event.code === 4404) { setStatus("Chat is not available on this page."); return; }
      setStatus("Reconnecting…");
      var delay = Math.min(15000, 1000 * Math.pow(2, state.retry++));
      window.setTimeout(connect, delay);
    };
  }

  function handle(frame) {
    var data = frame.data || {};
    if (frame.type === "session.ready") {
      state.authenticated = !!data.authenticated;
      if (data.token) { state.token = data.token; save({ token: data.token }); }
      state.sessionToken = data.session_token;
      if (!state.config) { applyConfig(data.config); }
      if (!data.authenticated && data.config.sign_in && authCallbackName) { authenticate(); }
      if (data.conversation || data.authenticated) {
        if (data.authenticated) { state.prechat = null; }
        state.conversationId = data.conversation ? data.conversation.id : null;
        state.prechatSent = true;
        view("chat");
      } else if (root.getAttribute("data-view") !== "chat" && root.getAttribute("data-view") !== "thanks") {
        view((state.config.prechat || []).length ? "prechat" : "chat");
      }
      flush();
    } else if (frame.type === "message.created") {
      onMessage(data.message);
    } else if (frame.type === "message.accepted") {
      var node = log.querySelector('[data-client-id="' + data.client_id + '"]');
      if (node) { node.setAttribute("data-id", String(data.message_id)); node.classList.remove("ccw-pending"); }
      state.outbox = state.outbox.filter(function (f) { return f.client_id !== data.client_id; });
      state.prechatSent = true;
    } else if (frame.type === "typing.started") {
      typing.textContent = (data.sender_name || "Support") + " is typing…";
      window.clearTimeout(state.typingTimer);
      state.typingTimer = window.setTimeout(function () { typing.textContent = ""; }, TYPING_SHOW_MS);
    } else if (frame.type === "conversation.ended") {
      state.conversationId = null;
      state.prechat = null;
      state.prechatSent = false;
      if (data.by === "customer") { view("thanks"); }
      else { addSystemLine("The agent has ended the chat."); view("csat"); }
    } else if (frame.type === "error") {
      setStatus(data.message);
      if (data.client_id) {
        var failed = log.querySelector('[data-client-id="' + data.client_id + '"]');
        if (failed) { failed.classList.add("ccw-failed"); }
        state.outbox = state.outbox.filter(function (f) { return f.client_id !== data.client_id; });
      }
    }
  }

  function authenticate() {
    var provide = window[authCallbackName];
    if (typeof provide !== "function") { return; }
    var timer;
    var timeout = new Promise(function (resolve, reject) {
      timer = window.setTimeout(function () { reject(new Error("timeout")); }, AUTH_TIMEOUT_MS);
    });
    Promise.race([Promise.resolve().then(provide), timeout]).then(function (jwt) {
      window.clearTimeout(timer);
      if (typeof jwt === "string" && jwt) { send({ type: "authenticate", token: jwt }); }
    }).catch(function () {
      window.clearTimeout(timer);
      setStatus("Signing in to the chat failed; you can still chat as a guest.");
    });
  }

  function flush() { state.outbox.forEach(function (frame) { send(frame); }); }

  function sendMessage(body, attachments) {
    var clientId = uid();
    var frame = { type: "message", client_id: clientId, body: body, attachments: attachments.map(function (a) { return a.ref; }) };
    if (state.prechat && !state.prechatSent && !state.authenticated) { frame.prechat = state.prechat; }
    var node = el("div", { "data-client-id": clientId });
    renderMessage({ id: "pending-" + clientId, sender_kind: "customer", body: body, attachments: attachments.map(function (a) { return { name: a.name, url: "" }; }) }, node);
    node.setAttribute("data-client-id", clientId);
    node.classList.add("ccw-pending");
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    state.outbox.push(frame);
    send(frame);
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body && !state.attachments.length) { return; }
    if (state.config && body.length > state.config.max_message_chars) {
      setStatus("Messages are limited to " + state.config.max_message_chars + " characters.");
      return;
    }
    sendMessage(body, state.attachments);
    input.value = "";
    state.attachments = [];
    chips.innerHTML = "";
    setStatus("");
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); composer.requestSubmit(); }
  });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (state.conversationId && now - state.typingSentAt > TYPING_SEND_MS) {
      state.typingSentAt = now;
      send({ type: "typing" });
    }
  });

  // --- Attachments -------------------------------------------------------------
  attachLabel.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files[0];
    fileInput.value = "";
    if (!file || !state.config) { return; }
    var ext = file.name.indexOf(".") >= 0 ? file.name.split(".").pop().toLowerCase() : "";
    if ((state.config.blocked_extensions || []).indexOf(ext) >= 0) { setStatus("Files of type ." + ext + " cannot be sent."); return; }
    if (file.size > state.config.max_attachment_bytes) {
      setStatus("The file is larger than " + Math.round(state.config.max_attachment_bytes / 1048576) + " MB.");
      return;
    }
    var form = new FormData();
    form.append("file", file);
    setStatus("Uploading " + file.name + "…");
    fetch(base + "/webchat/" + encodeURIComponent(key) + "/attachments/", {
      method: "POST", body: form, headers: { "X-Visitor-Token": state.sessionToken || "" }
    }).then(function (response) {
      return response.json().then(function (json) { return { ok: response.ok, json: json }; });
    }).then(function (result) {
      if (!result.ok) { setStatus(result.json.error ? result.json.error.message : "The file could not be attached."); return; }
      state.attachments.push(result.json);
      chips.appendChild(el("span", { class: "ccw-chip", text: result.json.name }));
      setStatus("");
    }).catch(function () { setStatus("The file could not be attached."); });
  });

  // --- End of chat and CSAT ----------------------------------------------------
  endButton.addEventListener("click", function () { view("csat"); });
  csatForm.querySelector(".ccw-cancel").addEventListener("click", function () {
    view(state.conversationId ? "chat" : "thanks");
  });
  csatForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var picked = csatForm.querySelector('input[name="rating"]:checked');
    var frame = { type: "end", rating: picked ? parseInt(picked.value, 10) : null, comment: comment.value.trim() };
    if (send(frame)) { view("thanks"); }
    else { setStatus("Not connected; please try again."); }
  });
  thanks.querySelector(".ccw-restart").addEventListener("click", function () {
    log.innerHTML = "";
    state.seen = {};
    state.lastId = 0;
    csatForm.reset();
    view((state.config.prechat || []).length ? "prechat" : "chat");
  });

  thanks.querySelector(".ccw-transcript").addEventListener("click", function () {
    fetch(base + "/webchat/" + encodeURIComponent(key) + "/transcript/", { headers: { "X-Visitor-Token": state.sessionToken || "" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("transcript"); }
        return response.blob();
      })
      .then(function (blob) {
        var link = el("a", { href: URL.createObjectURL(blob), download: "chat-transcript.txt" });
        document.body.appendChild(link);
        link.click();
        window.setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
      })
      .catch(function () { setStatus("The transcript could not be downloaded."); });
  });

  // --- Open / close ----------------------------------------------------------------
  function setOpen(open) {
    state.open = open;
    show(panel, open);
    bubble.setAttribute("aria-expanded", open ? "true" : "false");
    bubble.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    root.setAttribute("data-state", open ? "open" : "closed");
    if (open) {
      show(unread, false);
      if (state.lastId) { send({ type: "read", last_id: state.lastId }); }
      var first = panel.querySelector(".ccw-body form:not([hidden]) input, .ccw-body form:not([hidden]) textarea") || (composer.hasAttribute("hidden") ? null : input);
      if (first) { first.focus(); }
    } else {
      bubble.focus();
    }
  }
  bubble.addEventListener("click", function () { setOpen(!state.open); });
  closeButton.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") { setOpen(false); } });

  function start() {
    document.body.appendChild(root);
    state.token = load().token || null;
    connect();
  }
  if (document.body) { start(); } else { document.addEventListener("DOMContentLoaded", start); }
}());
