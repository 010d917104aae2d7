/* The help desk's website chat widget: one file, no framework, no build step.
 *
 *   <script src="https://desk.example.com/widget/widget.js" async
 *           data-title="Support" data-lang="en"></script>
 *
 * The desk's address is the script's own; the visitor's token is kept in this site's
 * localStorage (the same browser comes back to the same conversation). Everything shown is
 * set as text (textContent): HTML from anyone is shown literally.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__helpdeskWidget) return;
  window.__helpdeskWidget = true;
  var server = (script.getAttribute("data-server") || new URL(script.src).origin).replace(/\/$/, "");
  var api = server + "/widget/v1";
  var lang = (script.getAttribute("data-lang") || navigator.language || "en").slice(0, 2).toLowerCase();
  var TEXTS = {
    en: {
      title: "Support", open: "Chat with us", placeholder: "Write a message…", send: "Send",
      name: "Your name (optional)", email: "Your email (optional)", sending: "sending…",
      hello: "Hello! Write your question and an agent will answer here.",
      offline: "No connection; trying again…", tooMany: "Too many messages; wait a moment.",
      failed: "Not sent: ", you: "You", desk: "Support"
    },
    ru: {
      title: "Поддержка", open: "Написать нам", placeholder: "Напишите сообщение…", send: "Отправить",
      name: "Ваше имя (необязательно)", email: "Ваш email (необязательно)", sending: "отправляется…",
      hello: "Здравствуйте! Напишите вопрос, и сотрудник ответит здесь.",
      offline: "Нет связи; пробуем снова…", tooMany: "Слишком много сообщений; подождите немного.",
      failed: "Не отправлено: ", you: "Вы", desk: "Поддержка"
    }
  };
  var t = TEXTS[lang] || TEXTS.en;
  var title = script.getAttribute("data-title") || t.title;
  var storeKey = "helpdesk-widget:" + server;
  var token = null;
  try { token = localStorage.getItem(storeKey); } catch (e) { token = null; }
  var cursor = 0;
  var shown = {};
  var polling = false;

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = server + "/widget/widget.css";
  document.head.appendChild(css);

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function tid(node, id) { node.setAttribute("data-testid", id); return node; }

  var root = el("div", "hdw-root");
  var button = tid(el("button", "hdw-button", "💬"), "hdw-button");
  button.type = "button";
  button.title = t.open;
  button.setAttribute("aria-label", t.open);
  var panel = tid(el("div", "hdw-panel"), "hdw-panel");
  panel.hidden = true;
  var head = el("div", "hdw-head", title);
  var close = el("button", "hdw-close", "×");
  close.type = "button";
  head.appendChild(close);
  var list = tid(el("div", "hdw-messages"), "hdw-messages");
  list.setAttribute("aria-live", "polite");
  list.appendChild(el("div", "hdw-hello", t.hello));
  var contact = el("div", "hdw-contact");
  var nameInput = tid(el("input", "hdw-field"), "hdw-name");
  nameInput.placeholder = t.name;
  nameInput.maxLength = 128;
  var emailInput = tid(el("input", "hdw-field"), "hdw-email");
  emailInput.placeholder = t.email;
  emailInput.type = "email";
  emailInput.maxLength = 254;
  contact.appendChild(nameInput);
  contact.appendChild(emailInput);
  contact.hidden = !!token;
  var error = tid(el("div", "hdw-error"), "hdw-error");
  var form = el("form", "hdw-form");
  var input = tid(el("textarea", "hdw-input"), "hdw-input");
  input.placeholder = t.placeholder;
  input.maxLength = 4000;
  input.rows = 2;
  var send = tid(el("button", "hdw-send", t.send), "hdw-send");
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  [head, list, contact, error, form].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(panel);
  root.appendChild(button);
  document.body.appendChild(root);

  function toggle(open) {
    panel.hidden = !open;
    button.hidden = open;
    if (open) {
      button.classList.remove("hdw-unread");
      input.focus();
      list.scrollTop = list.scrollHeight;
    }
  }
  button.addEventListener("click", function () { toggle(true); });
  close.addEventListener("click", function () { toggle(false); });

  function showError(text) { error.textContent = text || ""; }

  function render(message) {
    if (shown[message.seq]) return;  // a message is shown once, however often it is fetched
    shown[message.seq] = true;
    var row = el("div", "hdw-msg hdw-" + message.sender);
    row.setAttribute("data-seq", String(message.seq));
    row.appendChild(el("div", "hdw-who", message.sender === "visitor" ? t.you : t.desk));
    row.appendChild(el("div", "hdw-text", message.text));
    var before = null;
    for (var i = 0; i < list.children.length; i++) {  // in seq order, whatever came first
      var seq = Number(list.children[i].getAttribute("data-seq") || 0);
      if (seq > message.seq) { before = list.children[i]; break; }
    }
    list.insertBefore(row, before);
    list.scrollTop = list.scrollHeight;
    if (panel.hidden && message.sender === "desk") button.classList.add("hdw-unread");
  }

  function request(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(api + path, {
      method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
      credentials: "omit", cache: "no-store"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var failure = new Error(data.detail || data.title || String(response.status));
          failure.status = response.status;
          throw failure;
        }
        return data;
      });
    });
  }

  function forget() {
    token = null;
    try { localStorage.removeItem(storeKey); } catch (e) { /* private mode */ }
    contact.hidden = false;
  }

  function start() {
    if (token) return Promise.resolve(token);
    return request("POST", "/visitors", {
      name: nameInput.value.trim() || null, email: emailInput.value.trim() || null, language: lang
    }).then(function (data) {
      token = data.token;
      try { localStorage.setItem(storeKey, token); } catch (e) { /* private mode */ }
      contact.hidden = true;
      poll();
      return token;
    });
  }

  function poll() {
    if (polling || !token) return;
    polling = true;
    var delay = 1000;
    (function next() {
      if (!token) { polling = false; return; }
      request("GET", "/messages?after=" + cursor + "&wait=25").then(function (data) {
        data.messages.forEach(render);
        cursor = data.cursor;
        delay = 1000;
        if (error.textContent === t.offline) showError("");
        setTimeout(next, 0);
      }, function (failure) {
        if (failure.status === 401) { forget(); polling = false; return; }
        if (!failure.status) showError(t.offline);
        delay = Math.min(delay * 2, 30000);
        setTimeout(next, delay);
      });
    })();
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return String(Date.now()) + Math.random().toString(36).slice(2);
  }

  var pending = null;  // the text being sent and its id: a retry sends the same id
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || send.disabled) return;
    if (!pending || pending.text !== text) pending = { text: text, id: newId() };
    var sending = pending;
    send.disabled = true;
    showError(t.sending);
    start().then(function () {
      return request("POST", "/messages", { text: sending.text, client_id: sending.id });
    }).then(function (data) {
      render(data.message);
      pending = null;
      if (input.value.trim() === sending.text) input.value = "";
      showError("");
    }, function (failure) {
      // Nothing is lost: the text stays in the box, and sending it again is safe.
      if (failure.status === 401) forget();
      showError(failure.status === 429 ? t.tooMany : t.failed + failure.message);
    }).then(function () { send.disabled = false; });
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : send.click();
    }
  });

  if (script.getAttribute("data-open") === "true") toggle(true);
  poll();
})();
