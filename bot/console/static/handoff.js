/* The agent inbox, kept fresh: the takeover queue and a conversation's transcript are polled
 * (each poll is also the agent's heartbeat, so "an agent is present" stays true only while an
 * inbox page is open). The pages work without this file; text only ever goes in with textContent. */
(function () {
  "use strict";

  var WHO = { citizen: "民眾", bot: "智慧客服", agent: "專員", notice: "通知" };
  var DELIVERY = { pending: "傳送中", delivered: "已送達", failed: "送達失敗" };
  var CONVERSATION_MS = 2000;
  var INBOX_MS = 5000;

  function api() {
    return window.bot1999Console;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function localTime(iso) {
    var date = new Date(iso);
    var parts = new Intl.DateTimeFormat("zh-TW", {
      timeZone: "Asia/Taipei", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(date);
    var get = function (type) {
      var found = parts.find(function (p) { return p.type === type; });
      return found ? found.value : "";
    };
    return get("year") + "-" + get("month") + "-" + get("day") + " " + get("hour") + ":" + get("minute");
  }

  // ---- a conversation: transcript and takeover panel

  function followConversation(section) {
    var url = section.getAttribute("data-conversation");
    var list = section.querySelector("[data-transcript]");
    var stateText = section.querySelector("[data-handoff-state]");
    var takeForm = section.querySelector("[data-take]");
    var replyForm = section.querySelector("[data-reply]");
    var releaseForm = section.querySelector("[data-release]");
    var replyError = section.querySelector("[data-reply-error]");
    var shown = "";
    var timer = 0;

    function renderLines(lines) {
      var signature = lines.map(function (l) { return l.key + ":" + l.delivery + ":" + (l.choices || []).join("|"); }).join("|");
      if (signature === shown) return;
      shown = signature;
      var atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
      var items = lines.map(function (line) {
        var item = el("li", "line line-" + line.who);
        item.setAttribute("data-key", line.key);
        var who = WHO[line.who] || "";
        if (line.who === "agent" && line.detail) who += "（" + line.detail + "）";
        item.append(el("span", "line-who", who), el("span", "line-at", localTime(line.at)));
        item.append(el("p", "line-text", line.text));
        if (line.choices && line.choices.length) {
          var choices = el("ul", "line-choices");
          choices.setAttribute("aria-label", "民眾看到的選項");
          line.choices.forEach(function (choice) { choices.append(el("li", "", choice)); });
          item.append(choices);
        }
        if (line.delivery) {
          item.append(el("span", "line-delivery delivery-" + line.delivery, DELIVERY[line.delivery] || ""));
        }
        return item;
      });
      if (!items.length) items = [el("li", "hint", "還沒有訊息。")];
      list.replaceChildren.apply(list, items);
      if (atEnd) list.scrollTop = list.scrollHeight;
    }

    function renderState(data) {
      var h = data.handoff || { state: "bot" };
      var text;
      if (h.state === "held" && h.mine) text = "您正在和民眾對話，智慧客服暫停回覆。";
      else if (h.state === "held") text = h.agent + " 正在和民眾對話（智慧客服暫停回覆）。";
      else if (h.state === "queued") text = "民眾正在等候專人，已等候 " + h.waited + "。";
      else text = "目前由智慧客服回覆。";
      if (stateText.textContent.trim() !== text) stateText.textContent = text;
      if (takeForm) takeForm.hidden = !data.reachable || h.state === "held";
      if (replyForm) replyForm.hidden = !h.mine;
      if (releaseForm) releaseForm.hidden = !h.mine;
    }

    function poll() {
      clearTimeout(timer);
      api().fetchJson(url).then(function (data) {
        renderLines(data.lines || []);
        renderState(data);
      }).catch(function () {
        /* the next poll tries again */
      }).then(function () {
        timer = setTimeout(poll, CONVERSATION_MS);
      });
    }

    if (replyForm) {
      replyForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var box = replyForm.querySelector("textarea");
        if (!box.value.trim()) return;
        var button = replyForm.querySelector("button");
        button.disabled = true;
        replyError.textContent = "";
        api().fetchJson(replyForm.action, { method: "POST", body: new FormData(replyForm) }).then(function () {
          box.value = "";
          poll();
        }).catch(function (error) {
          replyError.textContent = error.message;
        }).then(function () {
          button.disabled = false;
          box.focus();
        });
      });
    }
    list.scrollTop = list.scrollHeight;
    timer = setTimeout(poll, CONVERSATION_MS);
  }

  // ---- the queue page: who is waiting, who is talking

  function followInbox(section) {
    var url = section.getAttribute("data-inbox");
    var queued = section.querySelector("[data-queued]");
    var held = section.querySelector("[data-held]");
    var agents = section.querySelector("[data-agents]");

    function fill(list, items, empty, describe) {
      var nodes = items.map(function (item) {
        var li = el("li");
        var a = el("a", "", describe(item));
        a.href = "/console/conversations/" + encodeURIComponent(item.conversation_id);
        li.append(a);
        if (item.reason && !item.agent) li.append(document.createTextNode("：" + item.reason));
        return li;
      });
      list.replaceChildren.apply(list, nodes.length ? nodes : [el("li", "hint", empty)]);
    }

    function poll() {
      api().fetchJson(url).then(function (data) {
        fill(queued, data.queued, "目前沒有民眾在等候。", function (i) {
          return i.channel + " 民眾，已等候 " + i.waited;
        });
        fill(held, data.held, "目前沒有專人對話。", function (i) {
          return i.channel + " 民眾：" + i.agent + "，已對話 " + i.waited;
        });
        section.querySelector("[data-queued-count]").textContent = String(data.queued.length);
        section.querySelector("[data-held-count]").textContent = String(data.held.length);
        agents.textContent = data.agents.length ? data.agents.join("、") : "沒有";
      }).catch(function () {
        /* try again next time */
      }).then(function () {
        setTimeout(poll, INBOX_MS);
      });
    }
    setTimeout(poll, INBOX_MS);
  }

  function ready() {
    document.querySelectorAll("[data-conversation]").forEach(followConversation);
    document.querySelectorAll("[data-inbox]").forEach(followInbox);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
