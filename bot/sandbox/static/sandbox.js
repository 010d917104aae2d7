// The sandbox page: long-polls the world from /sandbox/api/state and acts through the JSON API.
// Every text from the server goes into the DOM as text nodes: nothing is parsed as HTML.
"use strict";

const api = {
  async state(since, wait) {
    const response = await fetch(`/sandbox/api/state?since=${since}&wait=${wait}`);
    if (!response.ok) throw new Error(`state: HTTP ${response.status}`);
    return response.json();
  },
  async post(path, body) {
    const options = body instanceof FormData
      ? { method: "POST", body }
      : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const response = await fetch(`/sandbox/api/${path}`, options);
    const answer = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
    if (!answer.ok) toast(answer.error || "failed", true);
    return answer;
  },
};

const ui = {
  world: null,
  customerId: null,
  agentId: null,
  thread: null, // the selected topic of the agents' group; null is General
  seenNotices: new Set(),
  seenInThread: new Map(), // thread key -> the highest message id seen there
  replyTo: { customer: null, agent: null },
  mailAddress: null, // whose mailbox the mail pane shows
  mailAnswers: null, // the id of the desk's mail being answered
};

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function toast(text, alert = false) {
  const box = el("div", { class: alert ? "toast alert" : "toast", role: "status" }, text);
  $("toasts").append(box);
  setTimeout(() => box.remove(), alert ? 6000 : 3500);
}

// ---------------------------------------------------------------- Telegram text with entities

const SAFE_URL = /^(https?:|mailto:)/i;
const TOPIC_LINK = /^https:\/\/t\.me\/c\/(\d+)\/(\d+)(?:\/(\d+))?/;

function entityNode(entity, text) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "spoiler": {
      const node = el("span", { class: "spoiler", title: "spoiler" });
      node.addEventListener("click", () => node.classList.add("shown"));
      return node;
    }
    case "code": return el("code");
    case "pre": return el("pre");
    case "blockquote":
    case "expandable_blockquote": return el("blockquote");
    case "text_link": return linkNode(entity.url || "");
    case "url": return linkNode(text);
    case "bot_command": return el("span", { class: "cmd", dataset: { command: text } });
    default: return el("span");
  }
}

function linkNode(url) {
  const topic = TOPIC_LINK.exec(url);
  if (topic) {
    const node = el("a", { href: "#", title: "open in the agents' group" });
    node.addEventListener("click", (event) => {
      event.preventDefault();
      openLink(Number(topic[1]), Number(topic[2]), topic[3] ? Number(topic[3]) : null);
    });
    return node;
  }
  if (SAFE_URL.test(url)) return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" });
  return el("span", { class: "link", title: url }); // tg://user?id=… and the like
}

// Offsets and lengths are UTF-16 code units, which is how JavaScript indexes strings.
function renderText(text, entities) {
  const root = document.createDocumentFragment();
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  build(root, 0, text.length, sorted);
  return root;

  function build(parent, start, end, list) {
    let pos = start;
    let i = 0;
    while (i < list.length) {
      const entity = list[i];
      if (entity.offset < pos || entity.offset >= end) { i += 1; continue; } // overlapping: skip
      if (entity.offset > pos) parent.append(text.slice(pos, entity.offset));
      const stop = Math.min(entity.offset + entity.length, end);
      const inner = [];
      let j = i + 1;
      while (j < list.length && list[j].offset < stop) { inner.push(list[j]); j += 1; }
      const node = entityNode(entity, text.slice(entity.offset, stop));
      build(node, entity.offset, stop, inner);
      parent.append(node);
      pos = stop;
      i = j;
    }
    if (pos < end) parent.append(text.slice(pos, end));
  }
}

// ---------------------------------------------------------------- messages

function messageNode(message, side, chatId) {
  if (message.service) {
    return el("div", { class: "service", dataset: { id: message.id } }, `${message.from.name} ${message.service}`);
  }
  const mine = message.from.id === (side === "customer" ? ui.customerId : ui.agentId);
  const isNote = side === "agent" && !message.from.bot && /^(\/\/|\/note\b)/.test(message.text);
  const classes = ["msg", mine ? "mine" : "", isNote ? "note" : ""].filter(Boolean).join(" ");
  const node = el("div", { class: classes, dataset: { id: message.id, testid: "message" } });
  const who = el("div", { class: "who" }, message.from.name, isNote ? " · internal note" : null);
  const replyLink = el("span", { class: "reply-link", title: "reply to this message" }, "↩");
  replyLink.addEventListener("click", () => setReply(side, message));
  who.append(replyLink);
  node.append(who);
  if (message.reply_to) {
    node.append(el("div", { class: "quote" }, `${message.reply_to.from}: ${message.reply_to.text}`));
  }
  if (message.media) node.append(mediaNode(message.media));
  if (message.text) node.append(el("div", { class: "body" }, renderText(message.text, message.entities)));
  if (message.buttons.length) node.append(buttonsNode(message, side, chatId));
  const time = message.date ? new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  node.append(el("div", { class: "meta" }, [message.pinned ? "📌 " : "", message.edited ? "edited " : "", time].join("")));
  return node;
}

function mediaNode(media) {
  const box = el("div", { class: "media" });
  const url = media.file_id ? `/sandbox/api/file/${encodeURIComponent(media.file_id)}` : null;
  if (url && media.image) box.append(el("img", { src: url, alt: media.name, loading: "lazy" }));
  else if (url) box.append(el("a", { class: "file", href: url, download: media.name }, `📄 ${media.name}`));
  else box.append(el("span", { class: "file" }, `[${media.kind}]`));
  return box;
}

function buttonsNode(message, side, chatId) {
  const box = el("div", { class: "buttons" });
  for (const row of message.buttons) {
    const line = el("div", { class: "row" });
    for (const button of row) {
      const node = el("button", { type: "button", dataset: { testid: "inline-button" } }, button.text);
      node.addEventListener("click", () => pressButton(side, chatId, message.id, button));
      line.append(node);
    }
    box.append(line);
  }
  return box;
}

async function pressButton(side, chatId, messageId, button) {
  if (button.url !== undefined) {
    const topic = TOPIC_LINK.exec(button.url);
    if (topic) openLink(Number(topic[1]), Number(topic[2]), topic[3] ? Number(topic[3]) : null);
    else if (SAFE_URL.test(button.url)) window.open(button.url, "_blank", "noopener");
    return;
  }
  await api.post("press", { user_id: actor(side), chat_id: chatId, message_id: messageId, data: button.data });
}

function renderMessages(box, messages, side, chatId) {
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren(...messages.map((m) => messageNode(m, side, chatId)));
  if (!messages.length) box.append(el("div", { class: "empty" }, "No messages yet."));
  if (atBottom || box.dataset.rendered !== `${chatId}:${ui.thread}`) box.scrollTop = box.scrollHeight;
  box.dataset.rendered = `${chatId}:${ui.thread}`;
}

// ---------------------------------------------------------------- the two panes

function actor(side) {
  return side === "customer" ? ui.customerId : ui.agentId;
}

function renderCustomer() {
  const world = ui.world;
  const chat = world.private[String(ui.customerId)] || { messages: [], keyboard: [] };
  renderMessages($("customer-messages"), chat.messages, "customer", ui.customerId);
  const keyboard = $("customer-keyboard");
  keyboard.replaceChildren(...chat.keyboard.map((row) => el("div", { class: "row" },
    ...row.map((text) => el("button", { type: "button", onclick: () => sendText("customer", text) }, text)))));
}

function threadKey(thread) {
  return thread === null ? "general" : String(thread);
}

function renderAgents() {
  const group = ui.world.group;
  $("group-title").textContent = group.title;
  const inThread = (thread) => group.messages.filter((m) => (m.thread_id ?? null) === thread);
  if (ui.thread !== null && !group.topics.some((t) => t.thread_id === ui.thread)) ui.thread = null;
  const nav = $("topics");
  nav.replaceChildren(...group.topics.map((topic) => {
    const messages = inThread(topic.thread_id);
    const newest = messages.length ? messages[messages.length - 1].id : 0;
    const key = threadKey(topic.thread_id);
    if (topic.thread_id === ui.thread || !ui.seenInThread.has(key)) ui.seenInThread.set(key, topic.thread_id === ui.thread ? newest : 0);
    const unseen = messages.filter((m) => m.id > ui.seenInThread.get(key) && !m.service).length;
    const selected = topic.thread_id === ui.thread;
    const node = el("button", {
      type: "button",
      class: ["topic", selected ? "selected" : "", topic.closed ? "closed" : ""].filter(Boolean).join(" "),
      dataset: { thread: key, testid: "topic" },
      title: topic.name,
    },
    el("span", { class: "dot", style: topic.color ? `background:#${topic.color.toString(16).padStart(6, "0")}` : "" }),
    el("span", { class: "name" }, topic.closed ? `🔒 ${topic.name}` : topic.name),
    unseen && !selected ? el("span", { class: "badge" }, String(unseen)) : null);
    node.addEventListener("click", () => selectTopic(topic.thread_id));
    return node;
  }));
  const topic = group.topics.find((t) => t.thread_id === ui.thread);
  $("topic-title").textContent = topic ? topic.name : "General";
  renderMessages($("agent-messages"), inThread(ui.thread), "agent", group.id);
}

function selectTopic(thread) {
  ui.thread = thread;
  ui.replyTo.agent = null;
  showReply("agent");
  render();
}

function openLink(internalId, first, second) {
  const group = ui.world.group;
  if (`-100${internalId}` !== String(group.id)) { toast("That link points outside the sandbox."); return; }
  let thread = group.topics.some((t) => t.thread_id === first) ? first : null;
  let target = second ?? (thread === null ? first : null);
  if (thread === null) {
    const found = group.messages.find((m) => m.id === first);
    thread = found ? (found.thread_id ?? null) : null;
  }
  selectTopic(thread);
  if (target !== null) {
    const node = $("agent-messages").querySelector(`[data-id="${target}"]`);
    if (node) { node.scrollIntoView({ block: "center" }); node.classList.add("flash"); setTimeout(() => node.classList.remove("flash"), 1500); }
  }
}

// ---------------------------------------------------------------- the mail pane

function renderMail() {
  const mail = ui.world.mail;
  $("desk-address").textContent = mail.desk;
  const select = $("mail-persona");
  const shown = [...select.options].map((o) => o.value).join(" ");
  if (shown !== mail.addresses.map((a) => a.address).join(" ")) {
    select.replaceChildren(...mail.addresses.map((a) => el("option", { value: a.address }, `${a.name} <${a.address}>`)));
  }
  if (!ui.mailAddress) ui.mailAddress = mail.addresses[0].address;
  select.value = ui.mailAddress;
  const mine = mail.mails.filter((m) => m.address === ui.mailAddress);
  const box = $("mail-list");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren(...mine.map(mailNode));
  if (!mine.length) box.append(el("div", { class: "empty" }, "No mails yet. Write one to the desk below."));
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function mailNode(mail) {
  const time = new Date(mail.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const head = el("div", { class: "head" }, mail.incoming ? `From ${mail.from}` : `To ${mail.to}`, ` · ${time}`);
  if (mail.incoming) {
    head.append(el("button", { type: "button", class: "reply", dataset: { testid: "mail-reply" },
      onclick: () => replyToMail(mail) }, "↩ Reply"));
  }
  return el("div", { class: `mail ${mail.incoming ? "incoming" : "sent"}`, dataset: { id: mail.id, testid: "mail" } },
    head, el("div", { class: "subject" }, mail.subject || "(no subject)"), el("div", { class: "text" }, mail.text));
}

function replyToMail(mail) {
  ui.mailAnswers = mail.id;
  const form = $("mail-form");
  form.elements.subject.value = /^re:/i.test(mail.subject) ? mail.subject : `Re: ${mail.subject}`;
  const bar = form.querySelector(".replying");
  const cancel = el("button", { type: "button", title: "cancel the reply" }, "✕");
  cancel.addEventListener("click", () => { ui.mailAnswers = null; bar.hidden = true; });
  bar.replaceChildren(`Replying to: ${mail.subject} `, cancel);
  bar.hidden = false;
  form.elements.text.focus();
}

function wireMail() {
  const form = $("mail-form");
  $("mail-persona").addEventListener("change", (e) => { ui.mailAddress = e.target.value; ui.mailAnswers = null; form.querySelector(".replying").hidden = true; render(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const subject = form.elements.subject.value.trim();
    const text = form.elements.text.value.trim();
    if (!subject && !text) return;
    const answer = await api.post("mail", { address: ui.mailAddress, subject, text, answers: ui.mailAnswers });
    if (answer.ok) {
      form.reset();
      ui.mailAnswers = null;
      form.querySelector(".replying").hidden = true;
    }
  });
}

function render() {
  if (!ui.world) return;
  renderCustomer();
  renderAgents();
  renderMail();
  for (const notice of ui.world.notices) {
    if (ui.seenNotices.has(notice.id)) continue;
    ui.seenNotices.add(notice.id);
    const person = ui.world.people.find((p) => p.id === notice.user_id);
    toast(`${person ? person.name : "?"}: ${notice.text}`, notice.alert);
  }
}

function fillPersonas(world) {
  const fill = (select, people, current) => {
    select.replaceChildren(...people.map((p) => el("option", { value: p.id }, `${p.name} (${p.role})`)));
    select.value = String(current);
  };
  const customers = world.people.filter((p) => p.role === "customer");
  const agents = world.people.filter((p) => p.role !== "customer");
  ui.customerId = customers[0].id;
  ui.agentId = agents[0].id;
  // Agents have a private chat with the bot too (where assignments arrive): listed after customers.
  fill($("customer-persona"), [...customers, ...agents], ui.customerId);
  fill($("agent-persona"), agents, ui.agentId);
  $("customer-persona").addEventListener("change", (e) => { ui.customerId = Number(e.target.value); render(); });
  $("agent-persona").addEventListener("change", (e) => { ui.agentId = Number(e.target.value); render(); });
  $("bot-name").textContent = `@${world.bot.username}`;
}

// ---------------------------------------------------------------- writing

function target(side) {
  return side === "customer"
    ? { user_id: ui.customerId, chat_id: ui.customerId, thread_id: null }
    : { user_id: ui.agentId, chat_id: ui.world.group.id, thread_id: ui.thread };
}

async function sendText(side, text) {
  const replyTo = ui.replyTo[side];
  const answer = await api.post("send", { ...target(side), text, reply_to: replyTo });
  if (answer.ok) { ui.replyTo[side] = null; showReply(side); }
  return answer;
}

async function sendFile(side, file, caption) {
  const form = new FormData();
  for (const [key, value] of Object.entries(target(side))) {
    if (value !== null) form.append(key, String(value));
  }
  if (caption) form.append("caption", caption);
  form.append("file", file, file.name);
  return api.post("upload", form);
}

function setReply(side, message) {
  ui.replyTo[side] = message.id;
  showReply(side, message);
}

function showReply(side, message) {
  const bar = $(`${side}-form`).querySelector(".replying");
  if (!ui.replyTo[side] || !message) { bar.hidden = true; bar.replaceChildren(); return; }
  const cancel = el("button", { type: "button", title: "cancel the reply" }, "✕");
  cancel.addEventListener("click", () => { ui.replyTo[side] = null; showReply(side); });
  bar.replaceChildren(`Replying to ${message.from.name}: ${(message.text || "").slice(0, 60)} `, cancel);
  bar.hidden = false;
}

function wireComposer(side) {
  const form = $(`${side}-form`);
  const input = form.querySelector("input[type=text]");
  const picker = form.querySelector("input[type=file]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const answer = await sendText(side, text);
    if (!answer.ok) input.value = text;
    input.focus();
  });
  picker.addEventListener("change", async () => {
    const file = picker.files[0];
    if (!file) return;
    // The caption is taken at once, as the text on submit: what is typed while the
    // upload is on its way is the next message, not something to clear afterwards.
    const caption = input.value.trim();
    input.value = "";
    picker.value = "";
    const answer = await sendFile(side, file, caption);
    if (!answer.ok && !input.value) input.value = caption;
  });
  document.querySelector(`.chips[data-for=${side}]`).addEventListener("click", (event) => {
    const command = event.target.dataset.command;
    if (command) sendText(side, command);
  });
  // A tap on a /command inside a message sends it, as in Telegram.
  $(`${side}-messages`).addEventListener("click", (event) => {
    const command = event.target.closest(".cmd");
    if (command) sendText(side, command.dataset.command);
  });
}

// ---------------------------------------------------------------- the loop

async function poll() {
  let since = -1;
  for (;;) {
    try {
      const world = await api.state(since, since < 0 ? 0 : 20);
      if (!ui.world) {
        fillPersonas(world);
        for (const notice of world.notices) ui.seenNotices.add(notice.id);
      }
      ui.world = world;
      since = world.revision;
      $("status").textContent = "connected";
      $("status").classList.remove("down");
      render();
    } catch (error) {
      $("status").textContent = "the sandbox is not answering (stopped?)";
      $("status").classList.add("down");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

wireComposer("customer");
wireComposer("agent");
wireMail();
poll();
