/*! bot1999 web chat — the full page (/) and the embeddable launcher run this same file.
 *
 * Embed on any page:
 *   <script src="https://bot.example.tw/widget.js" data-bot1999-endpoint="https://bot.example.tw/" defer></script>
 * On the full page, data-bot1999-mount="ID" names the element the chat fills instead.
 *
 * Rules this file keeps: message text goes into the page with textContent only (never HTML);
 * links open only http(s)/tel/mailto URLs; every message a citizen sends is queued in
 * sessionStorage and sent once, in order, retried with backoff while the network is down
 * (each carries its own message_id, so a retry of a message that did arrive is not answered twice).
 */
(() => {
  "use strict";

  const script =
    document.currentScript ||
    document.querySelector("script[data-bot1999-endpoint], script[data-bot1999-mount]");
  if (!script || window.bot1999Widget) return; // loaded twice: keep the first
  window.bot1999Widget = { started: false };

  const scriptUrl = new URL(script.src, location.href);
  const base = new URL(script.dataset.bot1999Endpoint || ".", scriptUrl);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  const API_URL = new URL("api/chat", base).href;
  const UPDATES_URL = new URL("api/chat/updates", base).href;
  const PHOTO_URL = new URL("api/chat/photo", base).href;
  const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"];
  // the server's channels.max_photo_bytes when the page says it (the full page does); the server checks again
  const MAX_PHOTO = Number.parseInt(script.dataset.bot1999MaxPhotoBytes || "", 10) || 10000000;
  const CSS_URL = new URL("widget.css", scriptUrl).href;
  const FORM_URL = new URL("cases/new", base).href;
  const STORE_KEY = "bot1999:" + base.origin + base.pathname;
  const SENDER_RE = /^[A-Za-z0-9_\-:.]{1,100}$/;
  const KINDS = ["text", "answer", "clarify", "abstain", "emergency", "notice", "handoff", "case", "feedback", "agent"];
  const MAX_TEXT = 1000;
  const MAX_HISTORY = 200;
  const TIMEOUT_MS = 20000;
  const MAX_DELAY_MS = 30000;
  const POLL_IDLE_MS = 20000; // pushes (case notices, a person's words): the server says how soon to ask again

  const T = {
    title: "1999 智慧客服",
    launcher: "1999 客服",
    close: "關閉",
    emergency: "緊急狀況請撥 119（火災、救護）或 110（治安、車禍）",
    welcome:
      "您好，我是 1999 智慧客服小幫手。請直接輸入您的問題，例如「大型垃圾怎麼清運」。" +
      "要反映路燈、坑洞等問題，也可以按「分享位置」或使用線上反映表單。",
    log: "對話紀錄",
    me: "您說：",
    bot: "客服小幫手：",
    agent: "客服專員：",
    agentName: "客服專員",
    sys: "系統訊息：",
    choices: "可以點選的選項",
    links: "相關連結",
    newWindow: "（另開新視窗）",
    typing: "客服小幫手正在回覆…",
    label: "輸入您的問題",
    hint: "按 Enter 送出，Shift + Enter 換行。",
    send: "送出",
    skip: "跳到輸入框",
    share: "分享位置",
    photo: "上傳照片",
    photoHint: "可上傳 JPEG、PNG 或 WebP 照片，" + MAX_PHOTO / 1000000 + " MB 以內。",
    photoSent: (name) => "照片：" + name,
    photoType: (name) => "「" + name + "」不是 JPEG、PNG 或 WebP 照片，沒有送出。請改選一張照片。",
    photoSize: (name, mb) =>
      "「" + name + "」有 " + mb + " MB，超過 " + MAX_PHOTO / 1000000 + " MB 的上限，沒有送出。請縮小或改選一張照片。",
    photoLost: "這張照片在重新整理頁面前沒有送出，請再選一次。",
    locating: "取得位置中…",
    form: "線上反映表單",
    clear: "清除對話",
    confirmClear: "要清除這段對話嗎？清除後無法復原。",
    myLocation: "我的位置",
    noGeo: "這個瀏覽器無法分享位置，請直接輸入地址或路口。",
    geoDenied: "您沒有允許分享位置。也可以直接輸入地址或路口。",
    geoFailed: "暫時無法取得位置，請直接輸入地址或路口。",
    queued: "尚未送出：連線恢復後會自動送出",
    sending: "傳送中…",
    refused: "無法送出：訊息格式不符，請修改後再試",
    offline: "目前離線。您的訊息已保留，連線恢復後會自動送出。",
    serverDown: "暫時連不上客服系統，稍後會自動重試，訊息不會遺失。",
    slowDown: (seconds) => `訊息傳得太快了，${seconds} 秒後會自動送出，訊息不會遺失。`,
    degraded: "目前為簡易模式：可以回答常見問題；反映問題請使用線上反映表單。",
    count: (n) => n + " / " + MAX_TEXT + " 字",
    over: (n) => "超過上限 " + (n - MAX_TEXT) + " 字：一則訊息最多 " + MAX_TEXT + " 字，請刪減或分成幾則送出。",
    tooLong: (n) =>
      "這則訊息有 " + n + " 字，超過 " + MAX_TEXT + " 字的上限，還沒有送出：請刪減 " + (n - MAX_TEXT) +
      " 字，或分成幾則傳送。您輸入的內容都還在輸入框裡。",
    call119: "撥打 119",
    call110: "撥打 110",
  };

  // the host page may load this in <head> without defer: build the chat once the DOM is there
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();

  function start() {
    // ---- state: history, outbox and sender survive reloads (sessionStorage: gone when the tab closes)

    const storage = (() => {
      try {
        const s = window.sessionStorage;
        s.setItem(STORE_KEY + ":probe", "1");
        s.removeItem(STORE_KEY + ":probe");
        return s;
      } catch {
        return null; // storage disabled: the chat still works, it just forgets on reload
      }
    })();

    function randomId(prefix) {
      if (window.crypto && crypto.randomUUID) return prefix + crypto.randomUUID();
      const bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    }

    function freshState() {
      return { sender: randomId("web-"), history: [], outbox: [], mode: "normal", open: false, after: 0 };
    }

    function loadState() {
      try {
        const data = JSON.parse((storage && storage.getItem(STORE_KEY)) || "null");
        if (data && SENDER_RE.test(data.sender) && Array.isArray(data.history) && Array.isArray(data.outbox)) {
          if (!Number.isSafeInteger(data.after) || data.after < 0) data.after = 0;
          return data;
        }
      } catch {
        /* unreadable: start again */
      }
      return freshState();
    }

    let state = loadState();

    function save() {
      if (state.history.length > MAX_HISTORY) {
        const waiting = new Set(state.outbox.map((item) => item.id));
        const excess = state.history.length - MAX_HISTORY;
        let dropped = 0;
        state.history = state.history.filter((e) => waiting.has(e.id) || dropped++ >= excess);
      }
      try {
        if (storage) storage.setItem(STORE_KEY, JSON.stringify(state));
      } catch {
        /* quota: keep going in memory */
      }
    }

    // ---- DOM helpers: text only ever through textContent

    function el(tag, className, text) {
      const node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined) node.textContent = text;
      return node;
    }

    function safeLink(url) {
      let parsed;
      try {
        parsed = new URL(String(url), base);
      } catch {
        return null;
      }
      return ["http:", "https:", "tel:", "mailto:"].includes(parsed.protocol) ? parsed : null;
    }

    function linkTo(title, url) {
      const parsed = safeLink(url);
      if (!parsed) return el("span", "link-text", title);
      const a = el("a", "link", title);
      a.href = parsed.href;
      a.rel = "noopener noreferrer";
      if (parsed.protocol.startsWith("http") && parsed.origin !== location.origin) {
        a.target = "_blank";
        a.append(el("span", "sr-only", T.newWindow));
      }
      return a;
    }

    // ---- building the chat

    const host = buildHost();
    const root = host.attachShadow({ mode: "open" });
    const sheet = el("link");
    sheet.rel = "stylesheet";
    sheet.href = CSS_URL;
    const wrap = el("div", "wrap");
    wrap.hidden = true; // until the stylesheet arrives: no flash of unstyled chat
    const reveal = () => {
      wrap.hidden = false;
    };
    sheet.addEventListener("load", reveal);
    sheet.addEventListener("error", reveal);
    root.append(sheet, wrap);

    const inline = host.dataset.bot1999Inline === "true";
    const ui = buildChat();
    let launcher = null;
    if (inline) {
      wrap.append(ui.chat);
    } else {
      launcher = buildLauncher();
    }

    function buildHost() {
      const mountId = script.dataset.bot1999Mount;
      const mount = mountId && document.getElementById(mountId);
      if (mount) {
        const node = el("div", "bot1999-host");
        node.dataset.bot1999Inline = "true";
        mount.append(node);
        return node;
      }
      const node = el("div", "bot1999-host");
      node.id = "bot1999-widget";
      document.body.append(node);
      return node;
    }

    function buildChat() {
      const chat = el("section", inline ? "chat inline" : "chat panel");
      chat.id = "bot1999-panel";
      chat.setAttribute("aria-labelledby", "bot1999-title");

      const header = el("header", "head");
      const title = el("h2", inline ? "sr-only" : "title", T.title);
      title.id = "bot1999-title";
      header.append(title);
      if (!inline) {
        header.append(el("p", "sub", T.emergency));
        const close = el("button", "close", T.close);
        close.type = "button";
        close.addEventListener("click", () => setOpen(false, true));
        header.append(close);
      } else {
        const skip = el("button", "skip", T.skip); // a button: a link cannot target inside the shadow root
        skip.type = "button";
        skip.addEventListener("click", () => input.focus());
        header.append(skip);
      }

      const degraded = el("p", "banner degraded");
      degraded.setAttribute("role", "status");
      const offline = el("p", "banner offline");
      offline.setAttribute("role", "status");

      const log = el("div", "log");
      log.setAttribute("role", "log");
      log.setAttribute("aria-live", "polite");
      log.setAttribute("aria-label", T.log);
      if (!inline) log.tabIndex = 0; // the panel's log scrolls: keyboard users can scroll it too

      const typing = el("p", "typing");
      typing.setAttribute("role", "status");

      const tools = el("div", "tools");
      const share = el("button", "tool share", T.share);
      share.type = "button";
      share.addEventListener("click", shareLocation);
      // a photo for the case (the bot asks for one while filing): a button that opens the picker
      const photoInput = el("input", "photo-input");
      photoInput.type = "file";
      photoInput.id = "bot1999-photo";
      photoInput.accept = PHOTO_TYPES.join(",");
      photoInput.hidden = true;
      photoInput.tabIndex = -1;
      photoInput.setAttribute("aria-label", T.photo);
      photoInput.addEventListener("change", () => {
        const file = photoInput.files && photoInput.files[0];
        photoInput.value = "";
        if (file) sendPhoto(file);
      });
      const photo = el("button", "tool photo", T.photo);
      photo.type = "button";
      photo.setAttribute("aria-describedby", "bot1999-photo-hint");
      photo.addEventListener("click", () => photoInput.click());
      const photoHint = el("span", "sr-only", T.photoHint);
      photoHint.id = "bot1999-photo-hint";
      const formLink = linkTo(T.form, FORM_URL);
      formLink.classList.add("tool");
      const clear = el("button", "tool clear", T.clear);
      clear.type = "button";
      clear.addEventListener("click", clearConversation);
      tools.append(share, photo, photoInput, photoHint, formLink, clear);

      const form = el("form", "composer");
      form.noValidate = true;
      const label = el("label", "label", T.label);
      label.htmlFor = "bot1999-input";
      const input = el("textarea", "input");
      input.id = "bot1999-input";
      input.name = "text";
      input.rows = 2; // no maxLength: a paste over the limit is not cut silently; the counter says so
      input.autocomplete = "off";
      input.setAttribute("enterkeyhint", "send");
      input.setAttribute("aria-describedby", "bot1999-hint bot1999-count");
      const hint = el("p", "sr-only", T.hint);
      hint.id = "bot1999-hint";
      // how much of the limit is used, read with the input; crossing the limit is announced once
      const counter = el("p", "counter", T.count(0));
      counter.id = "bot1999-count";
      const over = el("p", "over");
      over.setAttribute("role", "status");
      const send = el("button", "send", T.send);
      send.type = "submit";
      const row = el("div", "row");
      row.append(input, send);
      form.append(label, row, counter, over, hint);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        sendText();
      });
      input.addEventListener("input", () => showCount());
      input.addEventListener("keydown", (event) => {
        // Enter sends; Shift+Enter is a new line; Enter while an IME is composing picks a character
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
          event.preventDefault();
          sendText();
        }
      });

      const footer = el("div", "footer");
      footer.append(offline, typing, tools, form); // offline notice stays in sight, by the input
      chat.append(header, degraded, log, footer);
      if (!inline) {
        chat.addEventListener("keydown", (event) => {
          if (event.key === "Escape") setOpen(false, true);
        });
      }
      return { chat, log, typing, degraded, offline, input, share, photo, counter, over };
    }

    function buildLauncher() {
      const button = el("button", "launcher");
      button.type = "button";
      button.append(el("span", "launcher-icon"), el("span", "", T.launcher));
      button.setAttribute("aria-controls", "bot1999-panel");
      button.addEventListener("click", () => setOpen(!state.open, true));
      wrap.append(button, ui.chat);
      return button;
    }

    function setOpen(open, moveFocus) {
      state.open = open;
      save();
      ui.chat.hidden = !open;
      launcher.setAttribute("aria-expanded", String(open));
      if (!moveFocus) return;
      if (open) ui.input.focus();
      else launcher.focus();
    }

    // ---- rendering the history

    const nodes = new Map(); // entry id -> its status element

    function renderEntry(entry) {
      const who = ["me", "sys", "agent"].includes(entry.who) ? entry.who : "bot";
      const kind = KINDS.includes(entry.kind) ? entry.kind : "text";
      const item = el("div", "msg " + who + " kind-" + kind);
      const bubble = el("div", "bubble");
      if (who === "agent") item.append(el("span", "who", T.agentName)); // a person, not the bot
      bubble.append(el("span", "sr-only", { me: T.me, sys: T.sys, agent: T.agent }[who] || T.bot));
      bubble.append(el("span", "text", entry.text));
      item.append(bubble);
      if (who === "me") {
        const status = el("span", "status");
        nodes.set(entry.id, status);
        showStatus(entry);
        item.append(status);
      }
      if (kind === "emergency") {
        const calls = el("div", "links calls");
        calls.append(linkTo(T.call119, "tel:119"), linkTo(T.call110, "tel:110"));
        item.append(calls);
      }
      if (entry.links && entry.links.length) {
        const links = el("div", "links");
        links.setAttribute("role", "group");
        links.setAttribute("aria-label", T.links);
        for (const link of entry.links) links.append(linkTo(link.title, link.url));
        item.append(links);
      }
      if (entry.buttons && entry.buttons.length) item.append(renderChoices(entry));
      ui.log.append(item);
    }

    function renderChoices(entry) {
      const group = el("div", "choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", T.choices);
      const buttons = entry.buttons.map((choice, index) => {
        const button = el("button", "choice", choice.title);
        button.type = "button";
        if (entry.used !== undefined) {
          button.disabled = true;
          if (entry.used === index) button.classList.add("chosen");
        }
        button.addEventListener("click", () => {
          if (entry.used !== undefined) return; // one pick per set of buttons
          entry.used = index;
          for (const other of buttons) other.disabled = true;
          button.classList.add("chosen");
          submit({ payload: choice.payload }, choice.title);
          ui.input.focus();
        });
        return button;
      });
      group.append(...buttons);
      return group;
    }

    function showStatus(entry) {
      const node = nodes.get(entry.id);
      if (!node) return;
      node.textContent = { queued: T.queued, sending: T.sending, refused: T.refused }[entry.status] || "";
      node.parentElement?.classList.toggle("pending", entry.status === "queued" || entry.status === "sending");
    }

    function setStatus(id, status) {
      const entry = state.history.find((e) => e.id === id);
      if (!entry) return;
      entry.status = status;
      showStatus(entry);
    }

    function scrollToEnd() {
      if (inline) window.scrollTo(0, document.documentElement.scrollHeight); // the page scrolls
      else ui.log.scrollTop = ui.log.scrollHeight; // the panel's log scrolls
    }

    function addEntry(entry) {
      state.history.push(entry);
      renderEntry(entry);
      scrollToEnd();
    }

    function showBanners() {
      ui.degraded.textContent = state.mode === "degraded" ? T.degraded : "";
    }

    // ---- sending: one queue, one request at a time, retried with backoff

    let busy = false;
    let timer = 0;
    let attempt = 0;

    const photos = new Map(); // outbox id -> the File (kept in memory only: too big for storage)

    function sendPhoto(file) {
      if (!PHOTO_TYPES.includes(file.type)) {
        note(T.photoType(file.name));
        return;
      }
      if (file.size > MAX_PHOTO) {
        note(T.photoSize(file.name, (file.size / 1000000).toFixed(1)));
        return;
      }
      const id = randomId("m-");
      photos.set(id, file);
      state.outbox.push({ id, photo: true });
      addEntry({ id, who: "me", kind: "text", text: T.photoSent(file.name), status: "queued" });
      save();
      flush();
    }

    function submit(body, shown) {
      const id = randomId("m-");
      state.outbox.push({ id, body });
      addEntry({ id, who: "me", kind: "text", text: shown, status: "queued" });
      save();
      flush();
    }

    function chars(text) {
      return Array.from(text).length; // characters as the server counts them (an emoji is one)
    }

    function showCount() {
      const n = chars(ui.input.value.trim());
      const tooLong = n > MAX_TEXT;
      ui.counter.textContent = T.count(n);
      ui.counter.classList.toggle("near", n > MAX_TEXT * 0.9 && !tooLong);
      ui.counter.classList.toggle("too-long", tooLong);
      if (tooLong) ui.input.setAttribute("aria-invalid", "true");
      else ui.input.removeAttribute("aria-invalid");
      const message = tooLong ? T.over(n) : "";
      if (ui.over.textContent !== message) ui.over.textContent = message;
    }

    function sendText() {
      const text = ui.input.value.trim();
      if (!text) return;
      const n = chars(text);
      if (n > MAX_TEXT) {
        // nothing is cut and nothing is sent: the citizen shortens it or splits it
        addEntry({ id: randomId("s-"), who: "sys", kind: "notice", text: T.tooLong(n) });
        save();
        ui.input.focus();
        return;
      }
      ui.input.value = "";
      showCount();
      submit({ text }, text);
    }

    async function flush() {
      if (busy || !state.outbox.length) return;
      if (navigator.onLine === false) {
        ui.offline.textContent = T.offline;
        return; // the "online" event calls flush again
      }
      clearTimeout(timer);
      timer = 0;
      busy = true;
      const item = state.outbox[0];
      if (item.photo && !photos.has(item.id)) {
        // queued before a reload: the file itself was not kept, so the citizen picks it again
        state.outbox.shift();
        setStatus(item.id, "refused");
        note(T.photoLost);
        flush();
        return;
      }
      const sender = state.sender;
      setStatus(item.id, "sending");
      ui.typing.textContent = T.typing;
      const result = await post(item);
      ui.typing.textContent = "";
      busy = false;
      if (state.sender !== sender) {
        flush(); // the conversation was cleared meanwhile: this answer belongs to no one now
        return;
      }
      if (result.outcome === "retry") {
        setStatus(item.id, "queued");
        let delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
        if (result.waitSeconds) {
          // refused (429: the rate limit; 503: no replica free) for as long as the server
          // said (Retry-After): wait that long, no less
          ui.offline.textContent = result.limited ? T.slowDown(result.waitSeconds) : T.serverDown;
          delay = result.waitSeconds * 1000 + Math.random() * 500;
        } else {
          ui.offline.textContent = result.offline || navigator.onLine === false ? T.offline : T.serverDown;
          attempt += 1;
        }
        timer = setTimeout(flush, delay);
        save();
        return;
      }
      attempt = 0;
      ui.offline.textContent = "";
      state.outbox = state.outbox.filter((queued) => queued.id !== item.id);
      photos.delete(item.id);
      setStatus(item.id, result.outcome === "ok" ? "sent" : "refused");
      if (result.outcome === "ok") receive(result.data);
      else if (result.detail) note(result.detail); // e.g. the server's word on a photo it refused
      save();
      flush();
    }

    async function post(item) {
      const abort = new AbortController();
      const stop = setTimeout(() => abort.abort(), TIMEOUT_MS);
      try {
        let response;
        if (item.photo) {
          const form = new FormData();
          form.append("sender", state.sender);
          form.append("message_id", item.id);
          form.append("photo", photos.get(item.id));
          response = await fetch(PHOTO_URL, {
            method: "POST",
            headers: { Accept: "application/json" },
            body: form,
            credentials: "omit",
            signal: abort.signal,
          });
        } else {
          response = await fetch(API_URL, {
            method: "POST",
            headers: { "Content-Type": "application/json", Accept: "application/json" },
            // the message's own id, the same on every retry: the server answers it once
            body: JSON.stringify({ sender: state.sender, ...item.body, message_id: item.id }),
            credentials: "omit",
            signal: abort.signal,
          });
        }
        if (response.ok) return { outcome: "ok", data: await response.json() };
        if (response.status === 400 || response.status === 413 || response.status === 422) {
          const body = item.photo ? await response.json().catch(() => null) : null;
          const detail = body && typeof body.detail === "string" ? body.detail : "";
          return { outcome: "refused", detail };
        }
        if (response.status === 429 || response.status === 503) {
          let wait = Number.parseInt(response.headers.get("Retry-After") || "", 10);
          if (!(wait > 0)) {
            const body = await response.json().catch(() => null); // our refusals carry retry_after too
            wait = body && Number.isInteger(body.retry_after) ? body.retry_after : NaN;
          }
          if (Number.isFinite(wait) && wait > 0) {
            const limited = response.status === 429;
            return { outcome: "retry", offline: false, limited, waitSeconds: Math.min(wait, 3600) };
          }
        }
        return { outcome: "retry", offline: false };
      } catch {
        return { outcome: "retry", offline: true };
      } finally {
        clearTimeout(stop);
      }
    }

    function receive(data) {
      const replies = data && Array.isArray(data.replies) ? data.replies : [];
      state.mode = data && data.mode === "degraded" ? "degraded" : "normal";
      showBanners();
      for (const reply of replies) showReply(reply);
      schedulePoll(500); // a person may have just been asked for, or have just joined
    }

    function showReply(reply) {
      if (!reply || typeof reply !== "object") return;
      const buttons = (Array.isArray(reply.buttons) ? reply.buttons : [])
        .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string")
        .map((b) => ({ title: b.title, payload: b.payload }));
      const links = (Array.isArray(reply.links) ? reply.links : [])
        .filter((l) => l && typeof l.title === "string" && typeof l.url === "string")
        .map((l) => ({ title: l.title, url: l.url }));
      const text = typeof reply.text === "string" ? reply.text : "";
      const who = reply.kind === "agent" ? "agent" : "bot"; // written by a person, or by the bot
      addEntry({ id: randomId("r-"), who, kind: reply.kind, text, buttons, links });
    }

    // ---- pushes: case notices and a person's words wait on the server until fetched here

    let pollTimer = 0;
    let polling = false;

    function schedulePoll(ms) {
      clearTimeout(pollTimer);
      pollTimer = setTimeout(poll, ms);
    }

    async function poll() {
      if (polling) return;
      let next = POLL_IDLE_MS;
      const sender = state.sender;
      if (navigator.onLine !== false) {
        polling = true;
        try {
          const url = UPDATES_URL + "?sender=" + encodeURIComponent(sender) + "&after=" + state.after;
          const response = await fetch(url, {
            headers: { Accept: "application/json" },
            credentials: "omit",
            cache: "no-store",
          });
          const data = response.ok ? await response.json() : null;
          if (data && state.sender === sender && Array.isArray(data.updates)) {
            for (const update of data.updates) {
              if (!update || !Number.isSafeInteger(update.id) || update.id <= state.after) continue;
              state.after = update.id;
              showReply(update.reply);
            }
            if (Number.isSafeInteger(data.last) && data.last > state.after) state.after = data.last;
            save();
            if (Number.isFinite(data.poll_ms)) next = Math.min(Math.max(data.poll_ms, 500), 60000);
          }
        } catch {
          /* offline or the server is away: ask again later, nothing is lost on the server */
        }
        polling = false;
      }
      schedulePoll(document.hidden ? Math.max(next, POLL_IDLE_MS) : next);
    }

    // ---- the case-filing helpers: location and a fresh start

    function note(text) {
      addEntry({ id: randomId("s-"), who: "sys", kind: "notice", text });
      save();
    }

    function shareLocation() {
      if (!navigator.geolocation) {
        note(T.noGeo);
        return;
      }
      ui.share.disabled = true;
      ui.share.textContent = T.locating;
      const done = () => {
        ui.share.disabled = false;
        ui.share.textContent = T.share;
      };
      navigator.geolocation.getCurrentPosition(
        (position) => {
          done();
          const latitude = Number(position.coords.latitude.toFixed(6));
          const longitude = Number(position.coords.longitude.toFixed(6));
          const shown = T.myLocation + "：緯度 " + latitude.toFixed(5) + "，經度 " + longitude.toFixed(5);
          submit({ location: { latitude, longitude, title: T.myLocation } }, shown);
        },
        (error) => {
          done();
          note(error && error.code === 1 ? T.geoDenied : T.geoFailed);
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
      );
    }

    function clearConversation() {
      if (!window.confirm(T.confirmClear)) return;
      clearTimeout(timer);
      attempt = 0;
      const open = state.open;
      state = freshState();
      state.open = open;
      nodes.clear();
      ui.log.replaceChildren();
      ui.offline.textContent = "";
      welcome();
      showBanners();
      save();
      ui.input.focus();
    }

    function welcome() {
      if (!state.history.length) addEntry({ id: randomId("s-"), who: "bot", kind: "text", text: T.welcome });
    }

    // ---- start

    for (const entry of state.history) renderEntry(entry);
    welcome();
    showBanners();
    if (launcher) setOpen(Boolean(state.open), false);
    save();
    scrollToEnd();
    window.addEventListener("online", () => {
      attempt = 0;
      flush();
      schedulePoll(0);
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) schedulePoll(0);
    });
    window.addEventListener("offline", () => {
      if (state.outbox.length) ui.offline.textContent = T.offline;
    });
    window.bot1999Widget.started = true;
    flush();
    schedulePoll(0);
  }
})();
