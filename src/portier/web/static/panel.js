// The virtual panel: buttons pressed on pointer down and released on pointer up, inputs toggled,
// and the whole panel redrawn from every snapshot the device sends over server-sent events.
"use strict";
(() => {
  const csrf = document.querySelector("#panel-csrf input[name=csrf_token]").value;
  const live = document.getElementById("panel-live");
  const error = document.getElementById("panel-error");
  let queue = Promise.resolve();

  // One POST after the other: a release must never overtake its press.
  function post(path, fields) {
    queue = queue.then(async () => {
      const body = new FormData();
      body.append("csrf_token", csrf);
      for (const [name, value] of Object.entries(fields)) body.append(name, value);
      try {
        const response = await fetch(path, { method: "POST", body, credentials: "same-origin" });
        let text = "";
        if (!response.ok) {
          text = `${response.status} ${response.statusText}`;
          try { text = (await response.json()).error || text; } catch (ignored) { /* not JSON */ }
        }
        error.textContent = text;
      } catch (failure) {
        error.textContent = `the device did not answer (${failure})`;
      }
    });
    return queue;
  }

  for (const button of document.querySelectorAll(".panel-button")) {
    let down = false;
    const send = (action) => post("/virtual-panel/button", { button: button.dataset.button, action });
    const press = () => { if (!down && !button.disabled) { down = true; send("press"); } };
    const release = () => { if (down) { down = false; send("release"); } };
    button.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      event.preventDefault();
      button.setPointerCapture(event.pointerId);
      press();
    });
    for (const name of ["pointerup", "pointercancel", "lostpointercapture"]) button.addEventListener(name, release);
    button.addEventListener("keydown", (event) => {
      if ((event.key === " " || event.key === "Enter") && !event.repeat) { event.preventDefault(); press(); }
    });
    button.addEventListener("keyup", (event) => {
      if (event.key === " " || event.key === "Enter") { event.preventDefault(); release(); }
    });
    button.addEventListener("contextmenu", (event) => event.preventDefault());
  }

  for (const toggle of document.querySelectorAll(".toggle")) {
    toggle.addEventListener("click", () => post("/virtual-panel/input", { input: toggle.dataset.input }));
  }

  const yes = (value) => (value ? "yes" : "no");
  const text = (id, value) => { const element = document.getElementById(id); if (element) element.textContent = value; };

  function render(state) {
    meter(state.level);
    text("call-state", state.call);
    text("call-remote", state.remote);
    const calls = document.getElementById("calls");
    calls.replaceChildren(...state.calls.map((call) => {
      const item = document.createElement("li");
      item.textContent = `${call.line} ${call.direction} ${call.remote}: ${call.state}`;
      return item;
    }));
    for (const led of state.leds) {
      const element = document.getElementById(`led-${led.name}`);
      if (element) element.dataset.pattern = led.pattern;
      text(`led-${led.name}-pattern`, led.pattern);
    }
    for (const button of state.buttons) {
      const element = document.getElementById(`button-${button.number}`);
      if (element) { element.dataset.pressed = yes(button.pressed); element.disabled = !state.virtual; }
    }
    for (const relay of state.relays) {
      const element = document.getElementById(`relay-${relay.number}`);
      if (!element) continue;
      element.dataset.active = yes(relay.active);
      element.querySelector(".value").textContent = relay.active ? "triggered" : "at rest";
    }
    for (const input of state.inputs) {
      const element = document.getElementById(`input-${input.number}`);
      if (element) { element.dataset.triggered = yes(input.triggered); element.disabled = !state.virtual; }
      text(`input-${input.number}-state`, input.triggered ? "triggered" : "at rest");
      text(`input-${input.number}-level`, input.level);
    }
  }

  // Audio levels of the call's media in dBFS, sent a few times a second while a call has media.
  function meter(levels) {
    document.getElementById("audio-level").dataset.live = yes(levels !== null);
    for (const key of ["sent", "played"]) {
      const value = levels === null ? null : levels[key];
      const element = document.getElementById(`level-${key}`);
      if (element) element.value = value === null ? -96 : value;
      text(`level-${key}-db`, value === null ? "no audio" : `${value.toFixed(1)} dBFS`);
    }
  }

  const source = new EventSource("/virtual-panel/events");
  source.addEventListener("level", (event) => meter(JSON.parse(event.data)));
  source.addEventListener("state", (event) => render(JSON.parse(event.data)));
  source.addEventListener("open", () => { live.textContent = "connected"; });
  source.addEventListener("error", () => { live.textContent = "reconnecting…"; });
})();
