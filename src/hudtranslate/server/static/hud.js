// hudtranslate live HUD viewer: speaks caption protocol version 1 (see server/protocol.py).
// The server renders each display state to the device's exact pixels; this page draws
// that frame 1:1 into the canvas and scales the canvas with CSS (no smoothing). Photos
// (`scene` messages) are shown by photo.js.
"use strict";

(() => {
  const PROTOCOL_VERSION = 1;
  const params = new URLSearchParams(location.search);
  const canvas = document.getElementById("hud");
  const ctx = canvas.getContext("2d", { alpha: false });
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const profileSelect = $("profile");
  const bilingualBox = $("bilingual");
  const scaleSelect = $("scale");
  let socket = null;
  let retryMs = 500;
  let ended = false;  // the stream sent `end` (a wearer's session is then gone for good)
  let drawnSeq = 0;
  let profile = null;

  if (params.get("scale")) scaleSelect.value = params.get("scale");
  if (params.get("bilingual") !== null) {
    bilingualBox.checked = !["0", "false", "no", "off"].includes(params.get("bilingual"));
  }

  function setStatus(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  function socketUrl() {
    const query = new URLSearchParams();
    const chosen = profileSelect.value || params.get("profile");
    if (chosen) query.set("profile", chosen);
    query.set("bilingual", bilingualBox.checked ? "1" : "0");
    for (const name of ["session", "token"]) {  // a wearer's session; a server's token
      if (params.get(name)) query.set(name, params.get(name));
    }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws/captions?${query}`;
  }

  function applyScale() {
    if (!profile) return;
    let scale = Number(scaleSelect.value);
    if (scaleSelect.value === "fit") {
      const room = Math.max(200, window.innerHeight - 140);
      scale = Math.min(room / profile.height_px, (window.innerWidth - 60) / profile.width_px);
      scale = Math.max(0.25, Math.min(scale, 3));
    }
    canvas.style.width = `${profile.width_px * scale}px`;
    canvas.style.height = `${profile.height_px * scale}px`;
  }

  function onHello(msg) {
    if (msg.protocol_version !== PROTOCOL_VERSION) {
      setStatus(`server speaks protocol ${msg.protocol_version}, page ${PROTOCOL_VERSION}`,
                "error");
    }
    profile = msg.profile;
    profileSelect.replaceChildren(...msg.profiles.map((name) => new Option(name, name)));
    profileSelect.value = profile.name;
    bilingualBox.checked = msg.bilingual;
    canvas.width = profile.width_px;
    canvas.height = profile.height_px;
    canvas.dataset.profile = profile.name;
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    drawnSeq = 0;
    $("hud-info").textContent = profile.description ||
      `${profile.name}: ${profile.width_px}×${profile.height_px}, ${profile.color}`;
    applyScale();
  }

  function onDisplay(msg) {
    const image = new Image();
    const seq = msg.seq;
    image.onload = () => {
      if (seq <= drawnSeq || image.width !== canvas.width) return;
      drawnSeq = seq;
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(image, 0, 0);
      drawLoadMarker(msg.load || 0);
      canvas.dataset.seq = String(seq);
      canvas.dataset.text = hudText(msg.hud);
      canvas.dataset.card = msg.card ? `${msg.card.page}/${msg.card.pages}` : "";
      window.hudPhoto.onDisplayCard(msg.card);
    };
    image.src = msg.frame;
    const english = $("hud-english");
    english.replaceChildren(...msg.hud.english.map((line) => {
      const row = document.createElement("div");
      row.textContent = line;
      return row;
    }));
    $("hud-source").textContent = msg.hud.source;
    $("hud-pinyin").textContent = msg.hud.pinyin;
  }

  // The server is shedding optional work (protocol: display.load, 1-3): a small dot in
  // the top right corner, one ring per level above 1, drawn over the device's frame.
  const LOAD_TEXT = ["", "server busy: no partial English", "server busy: finals only",
                     "server busy: finals only, fast recognition"];

  function drawLoadMarker(level) {
    canvas.dataset.load = String(level);
    $("load-status").textContent = LOAD_TEXT[level] || (level ? "server busy" : "");
    if (!level) return;
    const radius = Math.max(4, Math.round(canvas.width / 80));
    const x = canvas.width - 3 * radius;
    const y = 3 * radius;
    ctx.fillStyle = profile && profile.color === "rgb" ? "#fb3" : "#3f3";
    ctx.strokeStyle = ctx.fillStyle;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, 2 * Math.PI);
    ctx.fill();
    for (let ring = 1; ring < level; ring += 1) {
      ctx.beginPath();
      ctx.arc(x, y, radius + 3 * ring, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  function hudText(hud) {
    return [...hud.english, hud.source, hud.pinyin].filter(Boolean).join("\n");
  }

  window.hudFinals = [];  // final English in order (last 100): for tests and debugging

  function onCaption(msg) {
    // The wearer's own words in Chinese are for the other person (/partner), not the HUD.
    if ((msg.target_language || "en") !== "en") return;
    if (msg.final) {
      window.hudFinals.push(msg.committed);
      window.hudFinals.splice(0, window.hudFinals.length - 100);
    }
    const caption = $("caption");
    caption.querySelector(".committed").textContent = msg.committed;
    caption.querySelector(".tentative").textContent = msg.tentative;
    caption.dataset.utterance = String(msg.utterance_id);
    caption.dataset.final = String(msg.final);
    $("caption-source").textContent = msg.source;
    if (msg.model) $("caption-model").textContent = `translated by ${msg.model}`;
  }

  const handlers = {
    hello: onHello,
    display: onDisplay,
    caption: onCaption,
    transcript: () => {},
    scene: (msg) => window.hudPhoto.onScene(msg),
    end: (msg) => {
      ended = true;
      setStatus(`stream ended (${msg.duration_s.toFixed(1)} s)`, "live");
    },
    error: (msg) => setStatus(`${msg.code}: ${msg.message}`, "error"),
  };

  function connect() {
    socket = new WebSocket(socketUrl());
    let opened = false;
    setStatus("connecting…");
    socket.onopen = () => { opened = true; retryMs = 500; setStatus("live", "live"); };
    socket.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      const handler = handlers[msg.type];
      if (handler) handler(msg);  // unknown types: ignore (protocol rule)
    };
    socket.onclose = async () => {
      // A wearer's session closes its viewers after `end` and is gone: keep saying so.
      // (The server's own page `/` retries: its server may come back with a new stream.)
      if (ended && params.get("session")) return;
      const session = params.get("session");
      if (!opened && await window.hudSocketRefused(socketUrl(), session, setStatus)) return;
      setStatus("disconnected — retrying", "error");
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }

  function sendView() {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({
        type: "view", profile: profileSelect.value, bilingual: bilingualBox.checked,
      }));
    }
  }

  profileSelect.addEventListener("change", sendView);
  bilingualBox.addEventListener("change", sendView);
  scaleSelect.addEventListener("change", applyScale);
  window.addEventListener("resize", applyScale);
  connect();
})();
