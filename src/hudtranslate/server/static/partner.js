// hudtranslate partner page: a phone held toward the other person. Speaks caption
// protocol version 1 (see server/protocol.py) on /ws/captions?display=0: no HUD frames,
// only the transcript and caption events of both directions.
//   en → zh (the wearer spoke): the Chinese large (committed dark, tentative dimmer), the
//            wearer's English small under it;
//   en → zh with draft: a card with the Chinese, a Copy button and the English;
//   zh → en (the partner spoke): a history entry, their Chinese with its English.
"use strict";

(() => {
  const PROTOCOL_VERSION = 1;
  const HISTORY_MAX = 30;
  const DRAFTS_MAX = 10;
  const FONT_URL = "/static/fonts/hud-cjk.ttf";
  const params = new URLSearchParams(location.search);
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const current = $("current");
  const history = new Map();  // key → <li> of the conversation list
  const drafts = new Map();   // key → <li> draft card
  let round = 0;              // a looping server starts its utterance ids again after `end`
  let ended = false;
  let retryMs = 500;

  function setStatus(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  function socketUrl() {
    const query = new URLSearchParams({ display: "0" });
    for (const name of ["session", "token"]) {  // a wearer's session; a server's token
      if (params.get(name)) query.set(name, params.get(name));
    }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws/captions?${query}`;
  }

  function key(msg) {
    if (ended) { ended = false; round += 1; }
    return `${round}:${msg.utterance_id}`;
  }

  // --- the wearer's words, large ------------------------------------------------------

  function showCurrent(k, zhCommitted, zhTentative, english) {
    if (current.dataset.utterance !== k) {
      retireCurrent();
      current.dataset.utterance = k;
    }
    const zh = $("said-zh");
    if (zhCommitted !== null) {
      zh.querySelector(".committed").textContent = zhCommitted;
      zh.querySelector(".tentative").textContent = zhTentative;
    }
    $("said-en").textContent = english;
    $("waiting").hidden = true;
  }

  /** The utterance on show moves into the conversation list when the wearer says more. */
  function retireCurrent() {
    const k = current.dataset.utterance;
    if (!k) return;
    const zh = $("said-zh").textContent;
    if (zh) historyEntry(k, "wearer", zh, $("said-en").textContent);
    $("said-zh").querySelector(".committed").textContent = "";
    $("said-zh").querySelector(".tentative").textContent = "";
    $("said-en").textContent = "";
  }

  // --- the conversation list ----------------------------------------------------------

  function historyEntry(k, who, zh, en) {
    let item = history.get(k);
    if (!item) {
      item = document.createElement("li");
      item.className = who;
      item.dataset.utterance = k;
      item.innerHTML = '<p class="zh"></p><p class="en" lang="en"></p>';
      $("history-list").prepend(item);
      history.set(k, item);
      trim(history, HISTORY_MAX);
      $("history").hidden = false;
    }
    if (zh !== null) item.querySelector(".zh").textContent = zh;
    if (en !== null) item.querySelector(".en").textContent = en;
  }

  function trim(map, max) {
    while (map.size > max) {
      const [oldest, element] = map.entries().next().value;
      element.remove();
      map.delete(oldest);
    }
  }

  // --- drafted messages -----------------------------------------------------------------

  function draftCard(k) {
    let card = drafts.get(k);
    if (!card) {
      card = $("draft-card").content.firstElementChild.cloneNode(true);
      card.dataset.utterance = k;
      card.querySelector(".zh").textContent = "正在撰写… ";
      card.querySelector(".copy").addEventListener("click", () => copy(card));
      $("draft-list").prepend(card);
      drafts.set(k, card);
      trim(drafts, DRAFTS_MAX);
      $("drafts").hidden = false;
    }
    return card;
  }

  async function copy(card) {
    const text = card.querySelector(".zh");
    const note = card.querySelector(".copied");
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text.textContent);
        note.textContent = "已复制 Copied";
        card.dataset.copied = "clipboard";
        return;
      }
    } catch (error) {
      // denied or unavailable: fall back to selecting the text
    }
    // Plain http on a LAN is not a secure context: select the text so the phone's own
    // copy works, and try the older command as well.
    const range = document.createRange();
    range.selectNodeContents(text);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    let copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    note.textContent = copied ? "已复制 Copied" : "已选中，请长按复制 Selected: long-press to copy";
    card.dataset.copied = copied ? "command" : "selected";
  }

  // --- protocol -------------------------------------------------------------------------

  function onTranscript(msg) {
    const k = key(msg);
    const text = msg.committed + msg.tentative;
    if (msg.language === "en" && msg.draft) {
      draftCard(k).querySelector(".en").textContent = text;
    } else if (msg.language === "en") {
      // no text: nothing said to the other person (a draft command said alone, sent
      // empty; or nothing heard): the line on show stays
      if (!text && current.dataset.utterance !== k) return;
      if (current.dataset.utterance === k || !history.has(k)) showCurrent(k, null, "", text);
    } else {
      historyEntry(k, "partner", text, null);
    }
  }

  function onCaption(msg) {
    const k = key(msg);
    const target = msg.target_language || "en";
    if (target === "zh" && msg.draft) {
      const card = draftCard(k);
      card.querySelector(".zh").textContent = msg.committed + msg.tentative;
      card.querySelector(".en").textContent = msg.source;
      card.querySelector(".copy").disabled = !msg.final;
      card.dataset.final = String(msg.final);
    } else if (target === "zh") {
      if (current.dataset.utterance === k || !history.has(k)) {
        showCurrent(k, msg.committed, msg.tentative, msg.source);
      } else {
        historyEntry(k, "wearer", msg.committed + msg.tentative, msg.source);
      }
      current.dataset.final = String(msg.final);
    } else {
      const english = [msg.committed, msg.tentative].filter(Boolean).join(" ");
      historyEntry(k, "partner", msg.source, english);
    }
  }

  const handlers = {
    hello: (msg) => {
      if (msg.protocol_version !== PROTOCOL_VERSION) {
        setStatus(`server speaks protocol ${msg.protocol_version}, page ${PROTOCOL_VERSION}`,
                  "error");
      }
    },
    transcript: onTranscript,
    caption: onCaption,
    end: () => { ended = true; setStatus("结束 ended", "live"); },
    error: (msg) => setStatus(`${msg.code}: ${msg.message}`, "error"),
  };

  function connect() {
    const socket = new WebSocket(socketUrl());
    let opened = false;
    setStatus("connecting…");
    socket.onopen = () => { opened = true; retryMs = 500; setStatus("live", "live"); };
    socket.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      const handler = handlers[msg.type];
      if (handler) handler(msg);  // unknown types (display, scene, …): ignore
    };
    socket.onclose = async () => {
      // a wearer's session closes its viewers when it ends, and is gone: keep saying so
      // (the server's own stream, no ?session=, may loop or come back: retry)
      if (ended && params.get("session")) return;
      const session = params.get("session");
      if (!opened && await window.hudSocketRefused(socketUrl(), session, setStatus,
                                                   "没有这个会话 ")) return;
      if (!ended) setStatus("disconnected — retrying", "error");
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }

  // Phones have a Chinese font; some desktops do not. Only then load the HUD's own
  // (WenQuanYi Micro Hei, ~4.6 MB): a missing glyph draws the same box as a private-use one.
  function hasChineseFont() {
    const canvas = document.createElement("canvas");
    canvas.width = 48;
    canvas.height = 48;
    const g = canvas.getContext("2d");
    const pixels = (char) => {
      g.clearRect(0, 0, 48, 48);
      g.font = "40px sans-serif";
      g.fillText(char, 2, 40);
      return g.getImageData(0, 0, 48, 48).data.join(",");
    };
    return pixels("中") !== pixels("\uE000");
  }

  function loadFontIfNeeded() {
    document.body.dataset.font = "system";
    if (hasChineseFont() || !window.FontFace) return;
    new FontFace("HUD CJK", `url(${FONT_URL})`).load().then((face) => {
      document.fonts.add(face);
      document.body.dataset.font = "bundled";
    }, () => { document.body.dataset.font = "missing"; });
  }

  loadFontIfNeeded();
  connect();
})();
