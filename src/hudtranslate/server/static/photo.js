// hudtranslate photos on the HUD page: speaks the `scene` message of protocol version 1
// (see server/protocol.py). Shows the photo with each translated block's English drawn
// over the Chinese it replaces (a filled box in the colour around the text, the English
// fitted into it), the card's pages as the display draws them, and the blocks as text.
// Also uploads a photo (POST /look) for this page's session.
"use strict";

window.hudPhoto = (() => {
  const MAX_SIDE_PX = 960;   // the overlay canvas's long side at most, in canvas pixels
  const MIN_FONT_PX = 9;
  const LINE_HEIGHT = 1.2;   // line height in font sizes
  const PAD_PX = 2;          // the fill reaches this far beyond the text's box
  const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif";
  const $ = (id) => document.getElementById(id);
  const canvas = $("photo");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  let shownScene = 0;

  function setUploadStatus(text, kind) {
    const status = $("photo-status");
    status.textContent = text;
    status.className = kind || "";
  }

  // --- the overlay -----------------------------------------------------------------------

  // Median colour of the ring of pixels just around a box: the paper or sign behind the
  // text rather than its ink.
  function backgroundOf(box) {
    const x0 = Math.max(0, box.x - 3), y0 = Math.max(0, box.y - 3);
    const x1 = Math.min(canvas.width, box.x + box.w + 3);
    const y1 = Math.min(canvas.height, box.y + box.h + 3);
    if (x1 <= x0 || y1 <= y0) return [255, 255, 255];
    const data = ctx.getImageData(x0, y0, x1 - x0, y1 - y0).data;
    const channels = [[], [], []];
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const inside = x >= box.x && x < box.x + box.w && y >= box.y && y < box.y + box.h;
        if (inside) continue;
        const at = ((y - y0) * (x1 - x0) + (x - x0)) * 4;
        for (let c = 0; c < 3; c++) channels[c].push(data[at + c]);
      }
    }
    return channels.map((values) => {
      if (!values.length) return 255;
      values.sort((a, b) => a - b);
      return values[values.length >> 1];
    });
  }

  function luminance([r, g, b]) {
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  }

  // `text` broken into lines no wider than `width` at the current font: at spaces, and
  // inside a word only when the word alone is too wide.
  function wrap(text, width) {
    const lines = [];
    let line = "";
    for (const word of text.split(/\s+/).filter(Boolean)) {
      const candidate = line ? `${line} ${word}` : word;
      if (ctx.measureText(candidate).width <= width) {
        line = candidate;
        continue;
      }
      if (line) lines.push(line);
      line = "";
      let rest = word;
      while (ctx.measureText(rest).width > width && rest.length > 1) {
        let cut = rest.length - 1;
        while (cut > 1 && ctx.measureText(rest.slice(0, cut)).width > width) cut--;
        lines.push(rest.slice(0, cut));
        rest = rest.slice(cut);
      }
      line = rest;
    }
    if (line) lines.push(line);
    return lines;
  }

  // The largest font size at which `text` fits the box (wrapped), and its lines; at the
  // smallest size it may run past the bottom (the fill then grows to cover it).
  function fit(text, width, height) {
    let size = Math.max(MIN_FONT_PX, Math.floor(height / LINE_HEIGHT));
    for (; size >= MIN_FONT_PX; size--) {
      ctx.font = `${size}px ${FONT}`;
      const lines = wrap(text, width);
      const fits = lines.length * size * LINE_HEIGHT <= height + 0.5 &&
        lines.every((line) => ctx.measureText(line).width <= width + 0.5);
      if (fits) return { size, lines };
    }
    size = MIN_FONT_PX;
    ctx.font = `${size}px ${FONT}`;
    return { size, lines: wrap(text, width) };
  }

  function drawOverlay(image, msg) {
    const scale = Math.min(1, MAX_SIDE_PX / Math.max(msg.width, msg.height));
    canvas.width = Math.max(1, Math.round(msg.width * scale));
    canvas.height = Math.max(1, Math.round(msg.height * scale));
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    const translated = msg.blocks.filter((block) => block.model && block.en);
    const boxes = translated.map((block) => {
      const [left, top, right, bottom] = block.box.map((value) => value * scale);
      return { x: Math.floor(left), y: Math.floor(top),
               w: Math.max(1, Math.ceil(right - left)), h: Math.max(1, Math.ceil(bottom - top)) };
    });
    const backgrounds = boxes.map(backgroundOf);  // all from the untouched photo
    const layout = translated.map((block, index) => {
      const box = boxes[index], background = backgrounds[index];
      const ink = luminance(background) > 0.55 ? [0, 0, 0] : [255, 255, 255];
      const { size, lines } = fit(block.en, box.w, box.h);
      const textHeight = lines.length * size * LINE_HEIGHT;
      const height = Math.max(box.h, Math.ceil(textHeight));
      ctx.fillStyle = `rgb(${background.join(",")})`;
      ctx.fillRect(box.x - PAD_PX, box.y - PAD_PX, box.w + 2 * PAD_PX, height + 2 * PAD_PX);
      ctx.fillStyle = `rgb(${ink.join(",")})`;
      ctx.font = `${size}px ${FONT}`;
      ctx.textBaseline = "middle";
      const top = box.y + Math.max(0, (box.h - textHeight) / 2);
      lines.forEach((line, row) => {
        ctx.fillText(line, box.x, top + (row + 0.5) * size * LINE_HEIGHT, box.w + 0.5);
      });
      const widths = lines.map((line) => Math.ceil(ctx.measureText(line).width));
      return { en: block.en, box: [box.x, box.y, box.w, box.h], size, lines, widths,
               background, ink };
    });
    canvas.dataset.layout = JSON.stringify(layout);
    canvas.dataset.scale = String(scale);
    canvas.dataset.scene = String(msg.scene_id);
  }

  // --- the scene message -------------------------------------------------------------------

  function showBlocks(msg) {
    const list = $("scene-blocks");
    list.replaceChildren(...msg.blocks.map((block) => {
      const item = document.createElement("li");
      const english = document.createElement("span");
      english.className = "english";
      english.textContent = block.en;
      item.append(english);
      if (block.model) {
        const chinese = document.createElement("span");
        chinese.className = "source";
        chinese.lang = "zh";
        chinese.textContent = ` ${block.zh}`;
        item.append(chinese);
      }
      return item;
    }));
    const codes = msg.barcodes.map((code) =>
      `${code.format} ${code.text}${code.issuer ? ` (issued by ${code.issuer})` : ""}` +
      `${code.en ? ` = ${code.en}` : ""}`);
    $("scene-extra").textContent = [msg.product, ...codes].filter(Boolean).join("\n");
  }

  function showCard(msg) {
    const strip = $("card-pages");
    strip.replaceChildren(...msg.card.map((page, index) => {
      const image = new Image();
      image.src = page.frame;
      image.alt = page.hud.english.join(" ");
      image.className = "card-page";
      image.dataset.page = String(index + 1);
      image.width = page.hud.width_px;
      image.height = page.hud.height_px;
      return image;
    }));
  }

  function onScene(msg) {
    if (msg.scene_id < shownScene) return;
    shownScene = msg.scene_id;
    $("photo-view").hidden = false;
    showBlocks(msg);
    showCard(msg);
    canvas.hidden = !msg.photo;
    if (!msg.photo) return;
    const image = new Image();
    image.onload = () => { if (msg.scene_id === shownScene) drawOverlay(image, msg); };
    image.src = msg.photo;
  }

  // The display shows card page `card.page` (or captions, with no card): mark it.
  function onDisplayCard(card) {
    for (const image of document.querySelectorAll("#card-pages .card-page")) {
      const current = card && card.scene_id === shownScene &&
        image.dataset.page === String(card.page);
      image.classList.toggle("current", Boolean(current));
    }
  }

  // --- uploading a photo ---------------------------------------------------------------------

  async function upload(file) {
    const params = new URLSearchParams(location.search);
    const query = new URLSearchParams({ name: file.name || "photo" });
    for (const name of ["session", "token"]) {
      if (params.get(name)) query.set(name, params.get(name));
    }
    setUploadStatus(`reading ${file.name}…`);
    try {
      const response = await fetch(`/look?${query}`, {
        method: "POST", body: file, headers: { "Content-Type": file.type || "image/jpeg" },
      });
      const answer = await response.json().catch(() => ({ error: response.statusText }));
      if (!response.ok) {
        setUploadStatus(answer.error || `error ${response.status}`, "error");
        return;
      }
      setUploadStatus(`${answer.blocks.length} blocks in ${answer.timings_s.total.toFixed(1)} s`,
                      "live");
    } catch (error) {
      setUploadStatus(`upload failed: ${error}`, "error");
    }
  }

  $("photo-file").addEventListener("change", (event) => {
    const [file] = event.target.files;
    if (file) upload(file);
    event.target.value = "";
  });

  return { onScene, onDisplayCard };
})();
